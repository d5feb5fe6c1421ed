/**
 * The files an operator deploys with: deploy/boxoffice.service passes `systemd-analyze verify` (no
 * warning either: an unknown key is only a warning there) and its offline security review, and
 * deploy/Containerfile copies only what exists and runs the headless server as a non-root user.
 * systemd-analyze is Debian's `systemd` package; CI sets BOXOFFICE_REQUIRE_SYSTEMD=1 so it never skips.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/server-process.js';

const UNIT = join(REPO_ROOT, 'deploy', 'boxoffice.service');
const CONTAINERFILE = join(REPO_ROOT, 'deploy', 'Containerfile');
const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' }).status === 0;
const requireSystemd = process.env.BOXOFFICE_REQUIRE_SYSTEMD === '1';
if (!hasSystemdAnalyze && !requireSystemd) console.warn('[boxoffice] skipping systemd-analyze checks: install Debian\'s systemd package to run them');

/** The unit's settings as [key, value] pairs, in order (repeated keys kept). */
function unitSettings(text: string): Array<[string, string]> {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('['))
    .map((line) => {
      const at = line.indexOf('=');
      return [line.slice(0, at), line.slice(at + 1)] as [string, string];
    });
}

/** Containerfile instructions: continuation lines joined, comments dropped. */
function instructions(text: string): Array<{ op: string; args: string }> {
  const joined = text.replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [op, ...rest] = line.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

describe('deploy/boxoffice.service', () => {
  const settings = unitSettings(readFileSync(UNIT, 'utf8'));
  const get = (key: string) => settings.filter(([k]) => k === key).map(([, v]) => v);

  it('runs the headless server as its own user, reads an EnvironmentFile, and keeps its data in a state directory', () => {
    expect(get('ExecStart')).toEqual(['/usr/bin/node /opt/boxoffice/dist/cli.js serve --headless']);
    expect(get('User')).toEqual(['boxoffice']);
    expect(get('EnvironmentFile')).toEqual(['-/etc/boxoffice/boxoffice.env']);
    expect(get('StateDirectory')).toEqual(['boxoffice']);
    expect(get('Environment')).toContain('BOXOFFICE_DATA_DIR=/var/lib/boxoffice');
    for (const key of ['NoNewPrivileges', 'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'CapabilityBoundingSet']) expect(get(key), key).toHaveLength(1);
    // The example environment file names only variables that exist.
    const example = readFileSync(join(REPO_ROOT, 'deploy', 'boxoffice.env.example'), 'utf8');
    const help = spawnSync(process.execPath, [join(REPO_ROOT, 'dist', 'cli.js'), 'serve', '--help'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
    for (const [, name] of example.matchAll(/^#?\s*(BOXOFFICE_[A-Z_]+)=/gm)) {
      if (name !== 'BOXOFFICE_ADMIN_TOKEN') expect(help, name).toContain(`env: ${name})`);
    }
  });

  it.skipIf(!hasSystemdAnalyze && !requireSystemd)('passes systemd-analyze verify with no warning, and its offline security review rates it OK', () => {
    const verify = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
    expect(verify.error, 'systemd-analyze is required here (BOXOFFICE_REQUIRE_SYSTEMD=1)').toBeUndefined();
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stderr.trim()).toBe('');
    const security = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', UNIT], { encoding: 'utf8' });
    const level = /Overall exposure level for boxoffice\.service: ([\d.]+)/.exec(security.stdout);
    expect(level, security.stdout + security.stderr).not.toBeNull();
    expect(Number(level![1])).toBeLessThanOrEqual(2);
  });
});

describe('deploy/Containerfile', () => {
  const steps = instructions(readFileSync(CONTAINERFILE, 'utf8'));
  const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

  it('copies only files that exist in the repository and are not excluded from the build context', () => {
    const copies = steps.filter((s) => s.op === 'COPY' && !s.args.startsWith('--from='));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) {
        expect(existsSync(join(REPO_ROOT, source)), `COPY ${source}`).toBe(true);
        expect(ignored, `COPY ${source} is excluded by .dockerignore`).not.toContain(source.replace(/^\.\//, '').split('/')[0]);
      }
    }
  });

  it('is based on node:20-slim, runs as a non-root user with a data volume, and starts node dist/cli.js serve --headless --host 0.0.0.0', () => {
    const froms = steps.filter((s) => s.op === 'FROM').map((s) => s.args.split(/\s+/)[0]);
    expect(froms.every((image) => image === 'node:20-slim'), froms.join(', ')).toBe(true);
    const last = steps.slice(steps.map((s) => s.op).lastIndexOf('FROM'));
    const user = last.filter((s) => s.op === 'USER').map((s) => s.args);
    expect(user).toEqual(['node']);
    expect(last.find((s) => s.op === 'VOLUME')?.args).toBe('["/data"]');
    expect(last.find((s) => s.op === 'ENV')?.args).toMatch(/BOXOFFICE_DATA_DIR=\/data/);
    expect(last.find((s) => s.op === 'WORKDIR')?.args).toBe('/app');
    expect(last.some((s) => s.op === 'COPY' && /\/src\/dist \.\/dist$/.test(s.args))).toBe(true);
    const cmd = last.filter((s) => s.op === 'CMD');
    expect(cmd).toHaveLength(1);
    expect(JSON.parse(cmd[0]!.args)).toEqual(['node', 'dist/cli.js', 'serve', '--headless', '--host', '0.0.0.0']);
  });
});

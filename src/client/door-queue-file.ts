import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { DoorList } from './door-client.js';
import type { QueueStore, QueuedScan } from './door-session.js';

/**
 * The offline queue in `<dir>/door-queue-<door>.json` (and the last door list beside it, in
 * `door-list-<door>.json`), the queue rewritten whole (temp file, fsync, rename) on
 * every change: an offline admission survives the laptop's program being closed or crashing before
 * the network comes back. A few hundred scans of ~200 bytes: rewriting is cheap.
 */
export function fileQueueStore(dir: string, doorKey: string): QueueStore & { path: string } {
  const key = doorKey.replace(/[^A-Za-z0-9_-]/g, '');
  const path = join(dir, `door-queue-${key}.json`);
  const listPath = join(dir, `door-list-${key}.json`);
  return {
    path,
    loadList() {
      try {
        const list = JSON.parse(readFileSync(listPath, 'utf8')) as DoorList;
        return typeof list?.eventId === 'string' && typeof list.publicKey === 'string' ? list : undefined;
      } catch {
        return undefined;
      }
    },
    // The list is only a fallback for a start without network: losing the last write costs nothing.
    saveList(list) {
      writeFileSync(`${listPath}.tmp`, JSON.stringify(list), { mode: 0o600 });
      renameSync(`${listPath}.tmp`, listPath);
    },
    load() {
      try {
        const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
        return Array.isArray(parsed) ? (parsed as QueuedScan[]).filter((s) => typeof s?.code === 'string' && typeof s?.nonce === 'string') : [];
      } catch {
        return [];
      }
    },
    save(scans) {
      const tmp = `${path}.tmp`;
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, JSON.stringify(scans));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
    },
  };
}

/** The door id inside a door token (`bod_<id>_<secret>`), to name its queue file; never the secret. */
export function doorKeyOf(token: string): string {
  return /^bod_([0-9a-f]{32})_/.exec(token)?.[1] ?? 'door';
}

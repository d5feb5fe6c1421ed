/**
 * `/openapi.json` as tools take it: Redocly's `recommended` ruleset finds no error and every
 * operation has a unique operationId; and a typed client generated from it (openapi-typescript +
 * openapi-fetch) typechecks, refuses a wrong call at compile time, and books against the running server.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startApp } from '../helpers/app.js';
import { REPO_ROOT } from '../helpers/server-process.js';

type Doc = { paths: Record<string, Record<string, { operationId?: string }>> };

describe('the OpenAPI document in standard tools', () => {
  let server: Awaited<ReturnType<typeof startApp>>;
  let text: string;
  beforeAll(async () => {
    // As production serves it: without the benchmark's route.
    server = await startApp({ config: { benchRoutes: false } });
    text = (await server.app.inject({ method: 'GET', url: '/openapi.json' })).body;
  });
  afterAll(() => server.close());

  it("passes Redocly's recommended rules: no error; warnings only where a route has no client error to document", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: text, config, absoluteRef: 'openapi.json' });
    const found = problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ''}`);
    expect(found.filter((p) => p.startsWith('error'))).toEqual([]);
    // Liveness and readiness answer 200 or 503 only: there is no 4xx to document.
    expect(found.filter((p) => p.startsWith('warn'))).toEqual([
      'warn operation-4xx-response #/paths/~1healthz/get/responses',
      'warn operation-4xx-response #/paths/~1readyz/get/responses',
    ]);
  });

  it('every operation has an operationId, each used once', () => {
    const doc = JSON.parse(text) as Doc;
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(ids.length).toBeGreaterThan(10);
    expect(ids.filter((id) => id === undefined)).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a client generated from it typechecks, refuses a wrong call, and books against the server', async () => {
    // Inside the repository, so the generated code resolves openapi-fetch from node_modules.
    const dir = join(REPO_ROOT, 'test-results', `openapi-client-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(join(dir, 'schema.d.ts'), astToString(await openapiTS(text)));
      writeFileSync(
        join(dir, 'client.ts'),
        `import createClient from 'openapi-fetch';
import type { paths } from './schema.js';

const api = createClient<paths>({ baseUrl: process.env.BASE_URL! });
const admin = { Authorization: 'Bearer ${ADMIN_TOKEN}' };
const created = await api.POST('/events', { headers: admin, body: { name: 'Generated', date: '2030-05-01T20:00:00Z', totalTickets: 5 } });
if (!created.data) throw new Error('create: ' + JSON.stringify(created.error));
const event = created.data;
const booked = await api.POST('/events/{id}/bookings', { params: { path: { id: event.id } }, body: { tickets: 2 } });
if (!booked.data) throw new Error('book: ' + JSON.stringify(booked.error));
const refused = await api.POST('/events/{id}/bookings', { params: { path: { id: event.id } }, body: { tickets: 4 } });
const read = await api.GET('/events/{id}', { params: { path: { id: event.id } } });
// @ts-expect-error tickets is a number in the document, so a string does not compile
void api.POST('/events/{id}/bookings', { params: { path: { id: event.id } }, body: { tickets: '2' } });
console.log(JSON.stringify({ tickets: booked.data.tickets.length, refused: refused.error?.error, available: read.data?.availableTickets }));
`,
      );
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: true, types: ['node'] }, include: ['*.ts'] }),
      );
      // Asynchronously: the server answering the client runs in this very process.
      const run = promisify(execFile);
      await run(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir]);
      const { stdout } = await run(process.execPath, ['--import', 'tsx', join(dir, 'client.ts')], { env: { ...process.env, BASE_URL: server.url }, cwd: REPO_ROOT });
      expect(JSON.parse(stdout.trim())).toEqual({ tickets: 2, refused: 'not_enough_tickets', available: 3 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

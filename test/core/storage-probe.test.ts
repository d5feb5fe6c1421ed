import { describe, expect, it } from 'vitest';
import { StorageProbe } from '../../src/core/storage-probe.js';

describe('StorageProbe (/readyz database check)', () => {
  it('reuses a result for maxAgeMs, so many readiness polls cost one ping', async () => {
    let now = 0;
    let pings = 0;
    const probe = new StorageProbe(async () => void pings++, { now: () => now, maxAgeMs: 1000 });
    await Promise.all([probe.check(), probe.check(), probe.check()]);
    await probe.check();
    expect(pings).toBe(1);
    now = 1000;
    expect(await probe.check()).toEqual({ status: 'ok' });
    expect(pings).toBe(2);
  });

  it('a failing ping is "unreachable" with its reason; one success makes it ok again', async () => {
    let now = 0;
    let fail = true;
    const probe = new StorageProbe(async () => {
      if (fail) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    }, { now: () => now });
    expect(await probe.check()).toEqual({ status: 'unreachable', reason: 'connect ECONNREFUSED 127.0.0.1:1' });
    fail = false;
    now += 1000;
    expect(await probe.check()).toEqual({ status: 'ok' });
  });

  it('a ping that never answers is "unreachable" after the timeout, and is not joined by a second ping', async () => {
    let now = 0;
    let pings = 0;
    const probe = new StorageProbe(() => {
      pings++;
      return new Promise<void>(() => {});
    }, { now: () => now, timeoutMs: 20 });
    expect(await probe.check()).toMatchObject({ status: 'unreachable', reason: expect.stringMatching(/no answer within 20 ms/) });
    now += 1000;
    expect((await probe.check()).status).toBe('unreachable');
    expect(pings).toBe(1);
  });
});

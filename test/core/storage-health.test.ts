import { describe, expect, it } from 'vitest';
import { FAILING_FOR_MS, FAILURES_TO_FAIL, StorageHealth } from '../../src/core/storage-health.js';

describe('StorageHealth (what /readyz says about storage)', () => {
  const full = new Error('database or disk is full');

  it('fails after consecutive failed writes, and one success clears it', () => {
    const health = new StorageHealth(() => 0);
    for (let i = 1; i < FAILURES_TO_FAIL; i++) health.failed('write', full);
    expect(health.status().status).toBe('ok');
    health.failed('write', full);
    expect(health.status()).toMatchObject({ status: 'failing', reason: expect.stringContaining('disk is full') });
    health.succeeded('read'); // reads working do not clear failing writes
    expect(health.status().status).toBe('failing');
    health.succeeded('write');
    expect(health.status().status).toBe('ok');
  });

  it('a damaged file fails at once', () => {
    const health = new StorageHealth(() => 0);
    health.failed('read', Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' }));
    expect(health.status().status).toBe('failing');
  });

  it('lets traffic try again a while after the last failure (no traffic, no success to clear it)', () => {
    let now = 0;
    const health = new StorageHealth(() => now);
    for (let i = 0; i < FAILURES_TO_FAIL; i++) health.failed('write', full);
    now = FAILING_FOR_MS - 1;
    expect(health.status().status).toBe('failing');
    now = FAILING_FOR_MS;
    expect(health.status().status).toBe('ok');
    health.failed('write', full); // still broken: failing again at the next failure
    expect(health.status().status).toBe('failing');
  });

  it("a store's own fault (the journal is gone) fails whatever succeeds", () => {
    const health = new StorageHealth(() => 0);
    health.succeeded('write');
    expect(health.status('the journal was deleted')).toEqual({ status: 'failing', reason: 'the journal was deleted' });
  });
});

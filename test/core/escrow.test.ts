import { describe, expect, it } from 'vitest';
import { SLAB_CAP, slabSize, stealPlan } from '../../src/core/escrow.js';

describe('escrow rules', () => {
  it('a top-up takes at least the deficit, a slab of at most SLAB_CAP, and less as the pool runs low', () => {
    expect(slabSize(1, 10_000_000, 4)).toBe(SLAB_CAP);
    expect(slabSize(1, 800, 4)).toBe(100);
    expect(slabSize(7, 8, 4)).toBe(7);
    expect(slabSize(30, 20, 4)).toBe(20);
    expect(slabSize(3, 0, 4)).toBe(0);
  });

  it('takes from dead nodes first, then the largest shares, only what is missing', () => {
    const others = [
      { nodeId: 'a', available: 5, alive: true },
      { nodeId: 'b', available: 2, alive: false },
      { nodeId: 'c', available: 9, alive: true },
    ];
    expect(stealPlan(6, others)).toEqual([
      { nodeId: 'b', take: 2 },
      { nodeId: 'c', take: 4 },
    ]);
    expect(stealPlan(100, others).reduce((n, p) => n + p.take, 0)).toBe(16);
    expect(stealPlan(0, others)).toEqual([]);
  });
});

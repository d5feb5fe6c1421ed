/**
 * Pure rules of escrow (stock shares per node, PostgreSQL): how much stock a node takes from an
 * event's unallocated pool when its own share cannot cover what it is asked to sell. The adapter
 * does the moving; these decide the amounts, so they can be tested without a database.
 */

/** The most one top-up takes beyond what is needed now: a node with a full share sells ~this many before its next top-up. */
export const SLAB_CAP = 5000;

/**
 * Tickets to move from the pool to a node's share. At least the deficit (when the pool has it), so
 * the batch that asked can be decided; beyond that a slab of at most SLAB_CAP, shrinking with the
 * pool (an equal part of half of it per node), so that near the end stock is spread thin and mostly
 * stays in the pool, where every node reaches it without taking from another.
 */
export function slabSize(deficit: number, pool: number, nodes: number): number {
  if (pool <= 0) return 0;
  const slab = Math.min(SLAB_CAP, Math.floor(pool / (2 * Math.max(1, nodes))));
  return Math.min(pool, Math.max(deficit, slab));
}

/**
 * When the pool cannot cover the deficit: what to take from other nodes' shares, largest first (dead
 * nodes' shares first), until the deficit is covered or nothing is left anywhere. So "sold out" is
 * answered only when the pool and every share together cannot cover the request.
 */
export function stealPlan(deficit: number, others: ReadonlyArray<{ nodeId: string; available: number; alive: boolean }>): Array<{ nodeId: string; take: number }> {
  const order = [...others].filter((o) => o.available > 0).sort((a, b) => Number(a.alive) - Number(b.alive) || b.available - a.available || (a.nodeId < b.nodeId ? -1 : 1));
  const plan: Array<{ nodeId: string; take: number }> = [];
  let left = deficit;
  for (const o of order) {
    if (left <= 0) break;
    const take = Math.min(left, o.available);
    plan.push({ nodeId: o.nodeId, take });
    left -= take;
  }
  return plan;
}

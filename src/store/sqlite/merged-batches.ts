import type { Outcome, WriteBatch } from '../../core/commands.js';

/** Most commands decided in one merged transaction (whole batches are never split). */
export const MAX_MERGED_COMMANDS = 4096;

/**
 * Batches that queued up at the writer thread, as one: commands in arrival order, the latest `now`
 * (every sender reads the same system clock; the latest never decides an expiry before a sender's
 * own batch would have).
 */
export function mergeBatches(batches: readonly WriteBatch[]): WriteBatch {
  if (batches.length === 1) return batches[0]!;
  let now = batches[0]!.now;
  for (const b of batches) if (b.now > now) now = b.now;
  const buyerBudget = batches.find((b) => b.buyerBudget)?.buyerBudget;
  return { now, commands: batches.flatMap((b) => b.commands), ...(buyerBudget && { buyerBudget }) };
}

/** The merged transaction's outcomes, handed back batch by batch. */
export function splitOutcomes(batches: readonly WriteBatch[], outcomes: readonly Outcome[]): Outcome[][] {
  let at = 0;
  return batches.map((b) => outcomes.slice(at, (at += b.commands.length)));
}

/** Small numeric helpers shared by the rows that time things themselves (checkin, queue). */

/** The p-quantile (0…1) of an ascending array; 0 for an empty one. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

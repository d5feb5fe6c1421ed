/** Default lead time of a waiting room: it takes joins this long before the sale opens. */
export const DEFAULT_WAITING_ROOM_LEAD_SECONDS = 30 * 60;
/** When the event's waiting room takes joins: `onSaleAt` minus the lead (null without a room or a sale time). */
export function roomOpensAt(event: { onSaleAt: string | null; waitingRoom: boolean }, leadSeconds: number): string | null {
  if (!event.waitingRoom || event.onSaleAt === null) return null;
  return new Date(Date.parse(event.onSaleAt) - leadSeconds * 1000).toISOString();
}

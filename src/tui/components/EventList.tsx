import { Box, Text } from 'ink';
import { useMemo, useState, type Dispatch, type SetStateAction } from 'react';
import type { Event } from '../../client/types.js';
import { byDateThenName, offSale, soldOf } from '../events-model.js';
import { formatCount, formatEventDate, padEnd, padStart, truncate } from '../format.js';
import { useKeys } from '../keys.js';

export interface EventListProps {
  events: readonly Event[];
  /** Rows the list may use, title and footer included. */
  height: number;
  width: number;
  /** Adds a "Sold" column (the organiser's view). */
  showSold?: boolean;
  /** Enter: the highlighted event, or undefined when nothing is listed. */
  onPick?: (event: Event | undefined) => void;
  /** Esc. */
  onBack?: () => void;
  /** The highlighted event; give it with `onSelectedChange` to keep it across remounts. */
  selectedId?: string;
  onSelectedChange?: Dispatch<SetStateAction<string | undefined>>;
  /** The filter text; give it with `onFilterChange` to keep it across remounts. */
  filter?: string;
  onFilterChange?: Dispatch<SetStateAction<string>>;
  emptyText?: string;
}

/** `Thu 31 Dec 2026 20:00 GMT+10`: the date in the event's own zone, with its label. */
const DATE_WIDTH = 27;
/** The Available column grows to this when tickets are held ("1,000 / 10,000 · 250 held"). */
const AVAILABLE_WIDTH = 19;
const AVAILABLE_MAX_WIDTH = 27;
const SOLD_WIDTH = 11;

/**
 * `8 / 10`, `8 / 10 · 2 held`, `SOLD OUT` when nothing is left and nothing held may come back, or
 * `CANCELLED` / `SALES CLOSED` when nothing can be bought whatever is left.
 */
function availabilityText(event: Event): string {
  const off = offSale(event);
  if (off) return off;
  const held = event.heldTickets ?? 0;
  if (event.availableTickets === 0 && held === 0) return 'SOLD OUT';
  const counts = `${formatCount(event.availableTickets)} / ${formatCount(event.totalTickets)}`;
  return held > 0 ? `${counts} · ${formatCount(held)} held` : counts;
}

/**
 * The events sorted by date with their local date, availability and (for organisers) tickets sold;
 * sold-out events are marked. Typing filters by name, ↑/↓/PgUp/PgDn/Home/End move, Enter picks, Esc
 * goes back. The highlight follows its event when live updates reorder or add rows.
 */
export function EventList(props: EventListProps) {
  const { events, height, width, showSold = false, onPick, onBack, emptyText } = props;
  const [filter, setFilter] = useControllable(props.filter, props.onFilterChange, '');
  const [selectedId, setSelectedId] = useControllable(props.selectedId, props.onSelectedChange, undefined);
  const [offset, setOffset] = useState(0);

  const visible = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const sorted = [...events].sort(byDateThenName);
    return needle === '' ? sorted : sorted.filter((e) => e.name.toLowerCase().includes(needle) || formatEventDate(e.date, e.timeZone).toLowerCase().includes(needle));
  }, [events, filter]);

  const rows = Math.max(1, height - 3);
  const found = visible.findIndex((e) => e.id === selectedId);
  const index = found === -1 ? 0 : found;
  // Keep the highlight on screen.
  let top = Math.min(offset, Math.max(0, visible.length - rows));
  if (index < top) top = index;
  if (index >= top + rows) top = index - rows + 1;

  const moveTo = (i: number) => {
    if (visible.length === 0) return;
    const next = Math.min(visible.length - 1, Math.max(0, i));
    setSelectedId(visible[next]!.id);
    if (next < top) setOffset(next);
    else if (next >= top + rows) setOffset(next - rows + 1);
    else setOffset(top);
  };

  useKeys((input, key) => {
    if (key.escape) onBack?.();
    else if (key.return) onPick?.(visible[index]);
    else if (key.upArrow) moveTo(index - 1);
    else if (key.downArrow) moveTo(index + 1);
    else if (key.pageUp) moveTo(index - rows);
    else if (key.pageDown) moveTo(index + rows);
    else if (key.home) moveTo(0);
    else if (key.end) moveTo(visible.length - 1);
    else if (key.backspace || key.delete) setFilter((f) => f.slice(0, -1));
    else if (input && !key.ctrl && !key.meta && !key.tab && !/[\u0000-\u001f\u007f]/.test(input)) {
      setFilter((f) => f + input);
      setOffset(0);
    }
  });

  // Wider only while some listed event has tickets held, so names keep their room otherwise.
  const availableWidth = useMemo(
    () => visible.reduce((w, e) => ((e.heldTickets ?? 0) > 0 ? Math.max(w, Math.min(AVAILABLE_MAX_WIDTH, availabilityText(e).length)) : w), AVAILABLE_WIDTH),
    [visible],
  );
  const nameWidth = Math.max(8, width - 2 - DATE_WIDTH - availableWidth - 2 - (showSold ? SOLD_WIDTH + 1 : 0));
  const shown = visible.slice(top, top + rows);
  const header = `  ${padEnd('Event', nameWidth)} ${padEnd('Date', DATE_WIDTH)} ${padStart('Available', availableWidth)}${showSold ? ` ${padStart('Sold', SOLD_WIDTH)}` : ''}`;

  return (
    <Box flexDirection="column" height={height}>
      <Text>
        <Text bold>Events</Text>
        <Text color="gray">{`  ${events.length === visible.length ? formatCount(events.length) : `${formatCount(visible.length)} of ${formatCount(events.length)}`}  ·  `}</Text>
        {filter === '' ? <Text color="gray">type to filter</Text> : <Text>{`filter: ${truncate(filter, 30)}`}</Text>}
        {filter !== '' && <Text inverse> </Text>}
      </Text>
      <Text color="gray">{truncate(header, width)}</Text>
      {shown.length === 0 ? (
        <Text color="gray">{events.length === 0 ? (emptyText ?? 'No events yet.') : `No events match "${truncate(filter, 40)}".`}</Text>
      ) : (
        shown.map((event) => (
          <EventRow
            key={event.id}
            event={event}
            selected={event.id === visible[index]?.id}
            nameWidth={nameWidth}
            availableWidth={availableWidth}
            showSold={showSold}
          />
        ))
      )}
      <Box flexGrow={1} />
      <Text color="gray">
        {visible.length > rows ? `${formatCount(top + 1)}–${formatCount(Math.min(visible.length, top + rows))} of ${formatCount(visible.length)}` : ' '}
      </Text>
    </Box>
  );
}

/** State owned by the parent when it passes `value` and `onChange`, else kept here. */
function useControllable<T>(value: T | undefined, onChange: Dispatch<SetStateAction<T>> | undefined, initial: T): [T, Dispatch<SetStateAction<T>>] {
  const [own, setOwn] = useState<T>(value ?? initial);
  if (onChange) return [value ?? initial, onChange];
  return [own, setOwn];
}

interface EventRowProps {
  event: Event;
  selected: boolean;
  nameWidth: number;
  availableWidth: number;
  showSold: boolean;
}

function EventRow({ event, selected, nameWidth, availableWidth, showSold }: EventRowProps) {
  const held = event.heldTickets ?? 0;
  // Nothing to buy now; with tickets held it is yellow, not red: an expiring hold may bring some back.
  const soldOut = (event.availableTickets === 0 && held === 0) || offSale(event) !== undefined;
  const low = !soldOut && event.availableTickets * 10 <= event.totalTickets;
  const available = availabilityText(event);
  const sold = formatCount(soldOf(event));
  return (
    <Text>
      <Text color="cyan" bold>
        {selected ? '› ' : '  '}
      </Text>
      <Text color={selected ? 'cyan' : soldOut ? 'gray' : undefined} bold={selected}>
        {padEnd(event.name, nameWidth)}
      </Text>
      <Text color={soldOut ? 'gray' : undefined}>{` ${padEnd(formatEventDate(event.date, event.timeZone), DATE_WIDTH)} `}</Text>
      <Text color={soldOut ? 'red' : low ? 'yellow' : 'green'} bold={soldOut}>
        {padStart(available, availableWidth)}
      </Text>
      {showSold && <Text>{` ${padStart(sold, SOLD_WIDTH)}`}</Text>}
    </Text>
  );
}

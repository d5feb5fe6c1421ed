import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { QueueEntry } from '../../client/types.js';

/** Where the buyer's places in waiting rooms are kept between runs: per server and event. */
export interface EntryStore {
  load(server: string, eventId: string): QueueEntry | undefined;
  save(server: string, entry: QueueEntry): void;
  forget(server: string, eventId: string): void;
}

const keyOf = (server: string, eventId: string) => `${server} ${eventId}`;

/** In memory (tests, or when the file cannot be written). */
export function memoryEntryStore(): EntryStore {
  const entries = new Map<string, QueueEntry>();
  return {
    load: (server, eventId) => entries.get(keyOf(server, eventId)),
    save: (server, entry) => void entries.set(keyOf(server, entry.eventId), entry),
    forget: (server, eventId) => void entries.delete(keyOf(server, eventId)),
  };
}

/**
 * `<dir>/queue-entries.json`: the entries (id and token: what proves the place) rewritten whole on
 * each change (temp file and rename), so quitting or a crash of the terminal UI keeps the buyer's
 * place. The token only shows the entry's own state, so the file is private to the user (0600).
 * A file that cannot be written costs the place across restarts, not the session: kept in memory then.
 */
export function fileEntryStore(dir: string): EntryStore & { path: string } {
  const path = join(dir, 'queue-entries.json');
  const memory = memoryEntryStore();
  const read = (): Record<string, QueueEntry> => {
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, QueueEntry>) : {};
    } catch {
      return {};
    }
  };
  const write = (all: Record<string, QueueEntry>) => {
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${path}.tmp`, JSON.stringify(all), { mode: 0o600 });
      renameSync(`${path}.tmp`, path);
    } catch {
      // Read-only or full: the memory copy below still serves this run.
    }
  };
  return {
    path,
    load(server, eventId) {
      const entry = read()[keyOf(server, eventId)] ?? memory.load(server, eventId);
      return entry && typeof entry.id === 'string' && typeof entry.token === 'string' ? entry : undefined;
    },
    save(server, entry) {
      memory.save(server, entry);
      write({ ...read(), [keyOf(server, entry.eventId)]: entry });
    },
    forget(server, eventId) {
      memory.forget(server, eventId);
      const all = read();
      delete all[keyOf(server, eventId)];
      write(all);
    },
  };
}

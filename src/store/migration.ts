/** One step of an adapter's schema history, applied once, in version order, inside a transaction. */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** The migrations a database at `current` still needs, checked for a sane history. */
export function pendingMigrations(all: readonly Migration[], current: number): Migration[] {
  all.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${i} has version ${m.version}; versions must be 1, 2, 3, …`);
  });
  if (current > all.length) {
    throw new Error(`the database is at schema version ${current}, newer than this boxoffice (${all.length}); upgrade boxoffice`);
  }
  return all.slice(current);
}

/**
 * The vote store's schema, as numbered migrations shared by both stores. Each store applies the ones it has not
 * recorded in `schema_migrations`, each in its own transaction, in order. The two dialects differ only where they
 * must (column types, identity columns); the tables, columns, keys and checks are the same.
 */

export type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  version: number;
  name: string;
  sql: Record<Dialect, string>;
}

export const MIGRATIONS_TABLE = {
  sqlite: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`,
  postgres: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at BIGINT NOT NULL
  )`,
} satisfies Record<Dialect, string>;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'votes',
    // The SQLite text is the table earlier endpoints created (PRAGMA user_version = 1): IF NOT EXISTS adopts it.
    sql: {
      sqlite: `CREATE TABLE IF NOT EXISTS votes (
        id TEXT PRIMARY KEY,
        a TEXT NOT NULL,
        a_version TEXT NOT NULL,
        b TEXT NOT NULL,
        b_version TEXT NOT NULL,
        winner TEXT NOT NULL CHECK (winner IN ('a', 'b', 'tie', 'both_bad')),
        client TEXT NOT NULL,
        ts INTEGER NOT NULL,
        session TEXT NOT NULL,
        listen_a_ms REAL NOT NULL,
        listen_b_ms REAL NOT NULL,
        decide_ms REAL NOT NULL,
        received_at INTEGER NOT NULL
      ) WITHOUT ROWID`,
      postgres: `CREATE TABLE IF NOT EXISTS votes (
        id TEXT PRIMARY KEY,
        a TEXT NOT NULL,
        a_version TEXT NOT NULL,
        b TEXT NOT NULL,
        b_version TEXT NOT NULL,
        winner TEXT NOT NULL CHECK (winner IN ('a', 'b', 'tie', 'both_bad')),
        client TEXT NOT NULL,
        ts BIGINT NOT NULL,
        session TEXT NOT NULL,
        listen_a_ms DOUBLE PRECISION NOT NULL,
        listen_b_ms DOUBLE PRECISION NOT NULL,
        decide_ms DOUBLE PRECISION NOT NULL,
        received_at BIGINT NOT NULL
      )`,
    },
  },
  {
    version: 2,
    name: 'moderation',
    sql: {
      sqlite: `
        -- Covers the leaderboard's tally (read in this order, no table lookups) and a client's votes.
        CREATE INDEX IF NOT EXISTS votes_tally ON votes (client, a, b, winner, decide_ms);
        CREATE TABLE IF NOT EXISTS excluded_clients (
          client TEXT PRIMARY KEY,
          reason TEXT NOT NULL,
          moderator TEXT NOT NULL,
          excluded_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS moderation_log (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          at INTEGER NOT NULL,
          action TEXT NOT NULL CHECK (action IN ('exclude', 'restore')),
          client TEXT NOT NULL,
          reason TEXT NOT NULL,
          moderator TEXT NOT NULL,
          votes INTEGER NOT NULL
        );`,
      postgres: `
        -- Covers the leaderboard's tally (read in this order, no table lookups) and a client's votes.
        CREATE INDEX IF NOT EXISTS votes_tally ON votes (client, a, b, winner, decide_ms);
        CREATE TABLE IF NOT EXISTS excluded_clients (
          client TEXT PRIMARY KEY,
          reason TEXT NOT NULL,
          moderator TEXT NOT NULL,
          excluded_at BIGINT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS moderation_log (
          id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          at BIGINT NOT NULL,
          action TEXT NOT NULL CHECK (action IN ('exclude', 'restore')),
          client TEXT NOT NULL,
          reason TEXT NOT NULL,
          moderator TEXT NOT NULL,
          votes BIGINT NOT NULL
        );`,
    },
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** What to apply, given the versions a store has recorded; refuses a store written by a newer endpoint. */
export function pendingMigrations(applied: readonly number[], where: string): Migration[] {
  const newest = Math.max(0, ...applied);
  if (newest > SCHEMA_VERSION) {
    throw new Error(`${where}: vote database schema ${newest} is newer than this endpoint (${SCHEMA_VERSION}); upgrade the endpoint`);
  }
  const done = new Set(applied);
  return MIGRATIONS.filter((m) => !done.has(m.version));
}

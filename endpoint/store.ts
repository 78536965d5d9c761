// Durable vote storage: one SQLite file in WAL mode, one transaction per batch, idempotent by vote id.
import Database from 'better-sqlite3';
import type { Vote, Winner } from '../src/shared/votes';

const SCHEMA_VERSION = 1;

/** What the leaderboard reads back: enough to rate and to flag, nothing more. */
export interface StoredVoteSummary {
  a: string;
  b: string;
  winner: Winner;
  client: string;
  decideMs: number;
}

export class VoteStore {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #insertBatch: (votes: readonly Vote[], receivedAt: number) => number;

  constructor(file: string) {
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    // FULL syncs the WAL on every commit: an acknowledged batch survives a power cut, not only a crash.
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('busy_timeout = 5000');
    const version = this.#db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new Error(`${file}: vote database schema ${version} is newer than this endpoint (${SCHEMA_VERSION})`);
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS votes (
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
      ) WITHOUT ROWID;
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
    this.#insert = this.#db.prepare(`
      INSERT OR IGNORE INTO votes (id, a, a_version, b, b_version, winner, client, ts, session, listen_a_ms, listen_b_ms, decide_ms, received_at)
      VALUES (@id, @a, @aVersion, @b, @bVersion, @winner, @client, @ts, @session, @listenA, @listenB, @decideMs, @receivedAt)
    `);
    this.#insertBatch = this.#db.transaction((votes: readonly Vote[], receivedAt: number) => {
      let accepted = 0;
      for (const v of votes) {
        accepted += this.#insert.run({ ...v, listenA: v.listenMs.a, listenB: v.listenMs.b, receivedAt }).changes;
      }
      return accepted;
    });
  }

  /** Stores a validated batch atomically; votes whose id is already stored (or repeated in the batch) are duplicates. */
  insert(votes: readonly Vote[]): { accepted: number; duplicates: number } {
    const accepted = this.#insertBatch(votes, Date.now());
    return { accepted, duplicates: votes.length - accepted };
  }

  count(): number {
    return (this.#db.prepare('SELECT COUNT(*) AS n FROM votes').get() as { n: number }).n;
  }

  /** Every vote in id order, so the leaderboard never depends on arrival order. */
  summaries(): StoredVoteSummary[] {
    return this.#db.prepare('SELECT a, b, winner, client, decide_ms AS decideMs FROM votes ORDER BY id').all() as StoredVoteSummary[];
  }

  close(): void {
    this.#db.close();
  }
}

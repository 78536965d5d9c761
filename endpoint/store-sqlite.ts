// The default vote store: one SQLite file in WAL mode, one transaction per batch, idempotent by vote id.
import Database from 'better-sqlite3';
import type { Vote } from '../src/shared/votes';
import { MIGRATIONS_TABLE, pendingMigrations, SCHEMA_VERSION } from './migrations';
import {
  rowToVote,
  splitFast,
  VOTE_COLUMNS,
  StoreUnavailableError,
  type ExcludedClient,
  type InsertResult,
  type ModerationAction,
  type ModerationEntry,
  type ModerationResult,
  type TallyGroup,
  type TallyRow,
  type VoteRow,
  type VoteStore,
} from './store';

/** Errors that say "not now" rather than "never": the disk, a lock held too long by another process. */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|READONLY|PROTOCOL)/;

interface LogRow {
  id: number;
  at: number;
  action: ModerationAction;
  client: string;
  reason: string;
  moderator: string;
  votes: number;
}

export class SqliteVoteStore implements VoteStore {
  readonly dialect = 'sqlite' as const;
  readonly label: string;
  readonly #db: Database.Database;
  readonly #readonly: boolean;
  #insert?: Database.Statement;
  #insertBatch?: (votes: readonly Vote[], receivedAt: number) => number;

  /** `readonly` opens an existing file for reading only (the leaderboard worker's connection). */
  constructor(file: string, opts: { readonly?: boolean } = {}) {
    this.label = file;
    this.#readonly = opts.readonly ?? false;
    this.#db = this.#readonly ? new Database(file, { readonly: true, fileMustExist: true }) : new Database(file);
    if (!this.#readonly) {
      this.#db.pragma('journal_mode = WAL');
      // FULL syncs the WAL on every commit: an acknowledged batch survives a power cut, not only a crash.
      this.#db.pragma('synchronous = FULL');
    }
    this.#db.pragma('busy_timeout = 5000');
  }

  #guard<T>(what: string, f: () => T): Promise<T> {
    try {
      return Promise.resolve(f());
    } catch (e) {
      const code = String((e as { code?: unknown }).code ?? '');
      if (UNAVAILABLE.test(code)) return Promise.reject(new StoreUnavailableError(`SQLite ${this.label}: ${what} failed: ${code}: ${(e as Error).message}`, { cause: e }));
      return Promise.reject(e);
    }
  }

  migrate(): Promise<number> {
    return this.#guard('migration', () => {
      const legacy = this.#db.pragma('user_version', { simple: true }) as number;
      if (legacy > SCHEMA_VERSION) throw new Error(`${this.label}: vote database schema ${legacy} is newer than this endpoint (${SCHEMA_VERSION}); upgrade the endpoint`);
      this.#db
        .transaction(() => {
          this.#db.exec(MIGRATIONS_TABLE.sqlite);
          const applied = (this.#db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version);
          for (const m of pendingMigrations(applied, this.label)) {
            this.#db.exec(m.sql.sqlite);
            this.#db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
          }
          // Kept in step for tools that read the version the SQLite way.
          this.#db.pragma(`user_version = ${SCHEMA_VERSION}`);
        })
        .immediate();
      return SCHEMA_VERSION;
    });
  }

  insert(votes: readonly Vote[], receivedAt = Date.now()): Promise<InsertResult> {
    return this.#guard('insert', () => {
      if (!this.#insertBatch) {
        const insert = (this.#insert = this.#db.prepare(`
          INSERT INTO votes (id, a, a_version, b, b_version, winner, client, ts, session, listen_a_ms, listen_b_ms, decide_ms, received_at)
          VALUES (@id, @a, @aVersion, @b, @bVersion, @winner, @client, @ts, @session, @listenA, @listenB, @decideMs, @receivedAt)
          ON CONFLICT (id) DO NOTHING
        `));
        this.#insertBatch = this.#db.transaction((batch: readonly Vote[], at: number) => {
          let accepted = 0;
          for (const v of batch) accepted += insert.run({ ...v, listenA: v.listenMs.a, listenB: v.listenMs.b, receivedAt: at }).changes;
          return accepted;
        });
      }
      const accepted = this.#insertBatch(votes, receivedAt);
      return { accepted, duplicates: votes.length - accepted };
    });
  }

  count(): Promise<number> {
    return this.#guard('count', () => (this.#db.prepare('SELECT COUNT(*) AS n FROM votes').get() as { n: number }).n);
  }

  readVotes(afterId: string | null, limit: number): Promise<Vote[]> {
    return this.#guard('read', () =>
      (this.#db.prepare(`SELECT ${VOTE_COLUMNS} FROM votes WHERE id > ? ORDER BY id LIMIT ?`).all(afterId ?? '', limit) as VoteRow[]).map(rowToVote),
    );
  }

  signature(): Promise<string> {
    return this.#guard('signature', () => {
      const r = this.#db.prepare('SELECT (SELECT COUNT(*) FROM votes) AS n, (SELECT COALESCE(MAX(id), 0) FROM moderation_log) AS m').get() as { n: number; m: number };
      return `${r.n}:${r.m}`;
    });
  }

  tally(minDecideMs: number): Promise<TallyGroup[]> {
    return this.#guard('tally', () => {
      // Grouped in the order of the votes_tally index, so SQLite streams it without sorting; one statement, one snapshot.
      const rows = this.#db
        .prepare(
          `SELECT t.client AS client, t.a AS a, t.b AS b, t.winner AS winner, t.fast AS fast, t.n AS n, x.client IS NOT NULL AS excluded
           FROM (SELECT client, a, b, winner, SUM(decide_ms < ?) AS fast, COUNT(*) AS n FROM votes GROUP BY client, a, b, winner) t
           LEFT JOIN excluded_clients x ON x.client = t.client`,
        )
        .all(minDecideMs) as TallyRow[];
      return splitFast(rows);
    });
  }

  #moderate(action: ModerationAction, client: string, reason: string, moderator: string, at: number): Promise<ModerationResult> {
    return this.#guard(action, () =>
      this.#db
        .transaction((): ModerationResult => {
          const votes = (this.#db.prepare('SELECT COUNT(*) AS n FROM votes WHERE client = ?').get(client) as { n: number }).n;
          const changes =
            action === 'exclude'
              ? this.#db.prepare('INSERT INTO excluded_clients (client, reason, moderator, excluded_at) VALUES (?, ?, ?, ?) ON CONFLICT (client) DO NOTHING').run(client, reason, moderator, at).changes
              : this.#db.prepare('DELETE FROM excluded_clients WHERE client = ?').run(client).changes;
          if (changes === 0) return { changed: false, votes };
          const entry = this.#db
            .prepare('INSERT INTO moderation_log (at, action, client, reason, moderator, votes) VALUES (?, ?, ?, ?, ?, ?) RETURNING id, at, action, client, reason, moderator, votes')
            .get(at, action, client, reason, moderator, votes) as LogRow;
          return { changed: true, entry, votes };
        })
        .immediate(),
    );
  }

  exclude(client: string, reason: string, moderator: string, at = Date.now()): Promise<ModerationResult> {
    return this.#moderate('exclude', client, reason, moderator, at);
  }

  restore(client: string, reason: string, moderator: string, at = Date.now()): Promise<ModerationResult> {
    return this.#moderate('restore', client, reason, moderator, at);
  }

  excludedClients(): Promise<ExcludedClient[]> {
    return this.#guard('excluded clients', () =>
      this.#db
        .prepare(
          `SELECT x.client AS client, x.reason AS reason, x.moderator AS moderator, x.excluded_at AS excludedAt,
                  (SELECT COUNT(*) FROM votes v WHERE v.client = x.client) AS votes
           FROM excluded_clients x ORDER BY x.client`,
        )
        .all() as ExcludedClient[],
    );
  }

  moderationLog(limit: number): Promise<ModerationEntry[]> {
    return this.#guard('moderation log', () => this.#db.prepare('SELECT id, at, action, client, reason, moderator, votes FROM moderation_log ORDER BY id DESC LIMIT ?').all(limit) as LogRow[]);
  }

  close(): Promise<void> {
    this.#db.close();
    return Promise.resolve();
  }
}

/**
 * The vote store on PostgreSQL (the `pg` package): the same tables and migrations as the SQLite store, a batch in
 * one statement (hence one transaction) with ON CONFLICT (id) DO NOTHING, a connection pool per process. A server
 * that cannot be reached, or that drops the connection, surfaces as StoreUnavailableError (the endpoint's 503).
 */
import pg from 'pg';
import type { Vote, Winner } from '../src/shared/votes';
import { MIGRATIONS_TABLE, pendingMigrations, SCHEMA_VERSION } from './migrations';
import {
  redactUrl,
  rowToVote,
  splitFast,
  VOTE_COLUMNS,
  StoreUnavailableError,
  type ExcludedClient,
  type InsertResult,
  type ModerationAction,
  type ModerationEntry,
  type ModerationResult,
  type StoreOptions,
  type TallyGroup,
  type VoteRow,
  type VoteStore,
} from './store';

/** Key of the advisory lock that serialises migrations when several endpoints start on one database. */
const MIGRATION_LOCK = 0x766f746573; // "votes"

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);

/**
 * Worth retrying later: network errors, and SQLSTATE classes 08 (connection), 53 (insufficient resources),
 * 57 (operator intervention: shutdown, restart, statement timeout) and 40 (serialization failure, deadlock).
 */
function isUnavailable(e: unknown): boolean {
  const code = String((e as { code?: unknown })?.code ?? '');
  if (NETWORK_CODES.has(code) || /^(08|53|57|40)/.test(code)) return true;
  return /Connection terminated|connection error|timeout exceeded when trying to connect|Client was closed|not queryable/i.test(String((e as Error)?.message ?? ''));
}

const LOG_COLUMNS = 'id::int AS id, at::float8 AS at, action, client, reason, moderator, votes::int AS votes';

export class PostgresVoteStore implements VoteStore {
  readonly dialect = 'postgres' as const;
  readonly label: string;
  readonly #pool: pg.Pool;
  #lastPoolError = 0;

  constructor(url: string, opts: StoreOptions & { statementTimeoutMs?: number } = {}) {
    this.label = redactUrl(url);
    this.#pool = new pg.Pool({
      connectionString: url,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
      statement_timeout: opts.statementTimeoutMs ?? 30_000,
      keepAlive: true,
      application_name: 'ai-mixer-votes',
    });
    // An idle connection that the server drops (restart, failover) must not take the process down.
    this.#pool.on('error', (e) => {
      const now = Date.now();
      if (now - this.#lastPoolError < 1000) return;
      this.#lastPoolError = now;
      console.error(JSON.stringify({ event: 'store_connection_lost', db: this.label, error: e.message }));
    });
  }

  async #run<T>(what: string, f: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (e) {
      throw new StoreUnavailableError(`PostgreSQL ${this.label} unreachable: ${(e as Error).message || (e as { code?: string }).code}`, { cause: e });
    }
    // A checked-out client that loses its connection between queries emits 'error'; unhandled, that would crash.
    const onError = () => {};
    client.on('error', onError);
    let failed: unknown;
    try {
      return await f(client);
    } catch (e) {
      failed = e;
      if (isUnavailable(e)) throw new StoreUnavailableError(`PostgreSQL ${this.label}: ${what} failed: ${(e as Error).message}`, { cause: e });
      throw e;
    } finally {
      client.off('error', onError);
      // A client whose query failed may be mid-transaction or dead: drop it rather than reuse it.
      client.release(failed !== undefined ? (failed instanceof Error ? failed : true) : undefined);
    }
  }

  async #transaction<T>(c: pg.PoolClient, f: () => Promise<T>): Promise<T> {
    await c.query('BEGIN');
    try {
      const out = await f();
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    }
  }

  migrate(): Promise<number> {
    return this.#run('migration', (c) =>
      this.#transaction(c, async () => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        await c.query(MIGRATIONS_TABLE.postgres);
        const applied = (await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version);
        for (const m of pendingMigrations(applied, this.label)) {
          await c.query(m.sql.postgres);
          await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
        }
        return SCHEMA_VERSION;
      }),
    );
  }

  insert(votes: readonly Vote[], receivedAt = Date.now()): Promise<InsertResult> {
    const cols: unknown[][] = Array.from({ length: 12 }, () => new Array(votes.length));
    votes.forEach((v, i) => {
      const row = [v.id, v.a, v.aVersion, v.b, v.bVersion, v.winner, v.client, v.ts, v.session, v.listenMs.a, v.listenMs.b, v.decideMs];
      for (let k = 0; k < 12; k++) cols[k][i] = row[k];
    });
    return this.#run('insert', async (c) => {
      const res = await c.query(
        `INSERT INTO votes (id, a, a_version, b, b_version, winner, client, ts, session, listen_a_ms, listen_b_ms, decide_ms, received_at)
         SELECT t.*, $13::bigint FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                                             $8::bigint[], $9::text[], $10::float8[], $11::float8[], $12::float8[]) AS t
         ON CONFLICT (id) DO NOTHING`,
        [...cols, receivedAt],
      );
      const accepted = res.rowCount ?? 0;
      return { accepted, duplicates: votes.length - accepted };
    });
  }

  count(): Promise<number> {
    return this.#run('count', async (c) => (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM votes')).rows[0].n);
  }

  readVotes(afterId: string | null, limit: number): Promise<Vote[]> {
    return this.#run('read', async (c) => {
      // ts is BIGINT (a string from pg); rowToVote makes it a number again.
      const res = await c.query<VoteRow>(`SELECT ${VOTE_COLUMNS} FROM votes WHERE id > $1 ORDER BY id LIMIT $2`, [afterId ?? '', limit]);
      return res.rows.map(rowToVote);
    });
  }

  signature(): Promise<string> {
    return this.#run('signature', async (c) => {
      const r = (await c.query<{ n: number; m: number }>('SELECT (SELECT count(*) FROM votes)::int AS n, (SELECT coalesce(max(id), 0) FROM moderation_log)::int AS m')).rows[0];
      return `${r.n}:${r.m}`;
    });
  }

  tally(minDecideMs: number): Promise<TallyGroup[]> {
    return this.#run('tally', async (c) => {
      const res = await c.query<{ client: string; a: string; b: string; winner: Winner; fast: number; n: number; excluded: boolean }>(
        `SELECT t.client, t.a, t.b, t.winner, t.fast, t.n, (x.client IS NOT NULL) AS excluded
         FROM (SELECT client, a, b, winner, (count(*) FILTER (WHERE decide_ms < $1::float8))::int AS fast, count(*)::int AS n
               FROM votes GROUP BY client, a, b, winner) t
         LEFT JOIN excluded_clients x ON x.client = t.client`,
        [minDecideMs],
      );
      return splitFast(res.rows);
    });
  }

  #moderate(action: ModerationAction, client: string, reason: string, moderator: string, at: number): Promise<ModerationResult> {
    return this.#run(action, (c) =>
      this.#transaction(c, async (): Promise<ModerationResult> => {
        // Serialises moderation of one client, so two moderators cannot both log the same change.
        await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK & 0x7fffffff, client]);
        const votes = (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM votes WHERE client = $1', [client])).rows[0].n;
        const changed =
          action === 'exclude'
            ? await c.query('INSERT INTO excluded_clients (client, reason, moderator, excluded_at) VALUES ($1, $2, $3, $4) ON CONFLICT (client) DO NOTHING', [client, reason, moderator, at])
            : await c.query('DELETE FROM excluded_clients WHERE client = $1', [client]);
        if (!changed.rowCount) return { changed: false, votes };
        const entry = (
          await c.query<ModerationEntry>(`INSERT INTO moderation_log (at, action, client, reason, moderator, votes) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${LOG_COLUMNS}`, [
            at,
            action,
            client,
            reason,
            moderator,
            votes,
          ])
        ).rows[0];
        return { changed: true, entry, votes };
      }),
    );
  }

  exclude(client: string, reason: string, moderator: string, at = Date.now()): Promise<ModerationResult> {
    return this.#moderate('exclude', client, reason, moderator, at);
  }

  restore(client: string, reason: string, moderator: string, at = Date.now()): Promise<ModerationResult> {
    return this.#moderate('restore', client, reason, moderator, at);
  }

  excludedClients(): Promise<ExcludedClient[]> {
    return this.#run('excluded clients', async (c) => {
      const res = await c.query<ExcludedClient>(
        `SELECT x.client, x.reason, x.moderator, x.excluded_at::float8 AS "excludedAt",
                (SELECT count(*) FROM votes v WHERE v.client = x.client)::int AS votes
         FROM excluded_clients x ORDER BY x.client COLLATE "C"`,
      );
      return res.rows;
    });
  }

  moderationLog(limit: number): Promise<ModerationEntry[]> {
    return this.#run('moderation log', async (c) => (await c.query<ModerationEntry>(`SELECT ${LOG_COLUMNS} FROM moderation_log ORDER BY id DESC LIMIT $1`, [limit])).rows);
  }

  close(): Promise<void> {
    return this.#pool.end();
  }
}

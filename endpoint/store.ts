/**
 * The vote store port: what the endpoint needs from durable storage, with two implementations behind it,
 * an embedded SQLite file (`store-sqlite.ts`, the default) and PostgreSQL (`store-postgres.ts`, for a database
 * server or a Postgres-compatible distributed store). Both apply the same numbered migrations (`migrations.ts`),
 * store a batch in one transaction, and ignore a vote whose id is already stored.
 */
import type { Vote, Winner } from '../src/shared/votes';
import type { Dialect } from './migrations';

export type { Dialect } from './migrations';

export interface InsertResult {
  accepted: number;
  duplicates: number;
}

/**
 * Stored votes counted by everything the leaderboard and the gaming flags read: the pair and sides, the outcome,
 * the client, whether the vote was cast under `minDecideMs`, and whether a moderator excluded the client.
 */
export interface TallyGroup {
  client: string;
  a: string;
  b: string;
  winner: Winner;
  fast: boolean;
  excluded: boolean;
  n: number;
}

/** A tally row as both stores' queries return it: the fast votes counted within the group. */
export interface TallyRow {
  client: string;
  a: string;
  b: string;
  winner: Winner;
  fast: number;
  n: number;
  excluded: number | boolean;
}

/** One group per (client, pair, outcome) with a count of fast votes becomes up to two groups, fast and not. */
export function splitFast(rows: readonly TallyRow[]): TallyGroup[] {
  const out: TallyGroup[] = [];
  for (const r of rows) {
    const base = { client: r.client, a: r.a, b: r.b, winner: r.winner, excluded: r.excluded === true || r.excluded === 1 };
    if (r.fast > 0) out.push({ ...base, fast: true, n: r.fast });
    if (r.n > r.fast) out.push({ ...base, fast: false, n: r.n - r.fast });
  }
  return out;
}

/** A votes row as both stores return it, before it becomes a Vote again. */
export interface VoteRow {
  id: string;
  a: string;
  a_version: string;
  b: string;
  b_version: string;
  winner: Winner;
  client: string;
  ts: number;
  session: string;
  listen_a_ms: number;
  listen_b_ms: number;
  decide_ms: number;
}

export const VOTE_COLUMNS = 'id, a, a_version, b, b_version, winner, client, ts, session, listen_a_ms, listen_b_ms, decide_ms';

export function rowToVote(r: VoteRow): Vote {
  return {
    id: r.id,
    a: r.a,
    aVersion: r.a_version,
    b: r.b,
    bVersion: r.b_version,
    winner: r.winner,
    client: r.client,
    ts: Number(r.ts),
    session: r.session,
    listenMs: { a: r.listen_a_ms, b: r.listen_b_ms },
    decideMs: r.decide_ms,
  };
}

export interface ExcludedClient {
  client: string;
  reason: string;
  moderator: string;
  excludedAt: number;
  /** Votes the client has stored now. */
  votes: number;
}

export type ModerationAction = 'exclude' | 'restore';

export interface ModerationEntry {
  id: number;
  at: number;
  action: ModerationAction;
  client: string;
  reason: string;
  moderator: string;
  /** The client's stored votes when the action was taken. */
  votes: number;
}

export interface ModerationResult {
  /** False when the client already was in the requested state (nothing is logged then). */
  changed: boolean;
  entry?: ModerationEntry;
  votes: number;
}

export interface VoteStore {
  readonly dialect: Dialect;
  /** Where the votes are, for logs: the file, or the database URL without its password. */
  readonly label: string;
  /** Applies pending migrations; returns the schema version. Safe to call from several processes at once. */
  migrate(): Promise<number>;
  /** Stores a validated batch atomically; votes whose id is already stored (or repeated in the batch) are duplicates. */
  insert(votes: readonly Vote[], receivedAt?: number): Promise<InsertResult>;
  count(): Promise<number>;
  /** Up to `limit` stored votes with ids after `afterId` (null: from the start), in id order: for copying a store. */
  readVotes(afterId: string | null, limit: number): Promise<Vote[]>;
  /** Changes whenever a vote is stored or a client is excluded or restored (votes are never deleted). */
  signature(): Promise<string>;
  tally(minDecideMs: number): Promise<TallyGroup[]>;
  exclude(client: string, reason: string, moderator: string, at?: number): Promise<ModerationResult>;
  restore(client: string, reason: string, moderator: string, at?: number): Promise<ModerationResult>;
  excludedClients(): Promise<ExcludedClient[]>;
  /** Newest first. */
  moderationLog(limit: number): Promise<ModerationEntry[]>;
  close(): Promise<void>;
}

/** The store cannot be reached or is busy: the request may be retried later (the endpoint answers 503). */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

export interface StoreOptions {
  /** PostgreSQL connections per process. Default 10. */
  poolSize?: number;
}

export const isPostgresUrl = (db: string) => /^postgres(ql)?:\/\//i.test(db);

/** A `postgres://` or `postgresql://` URL opens PostgreSQL; anything else is a SQLite file path. */
export async function openStore(db: string, opts: StoreOptions = {}): Promise<VoteStore> {
  if (isPostgresUrl(db)) {
    const { PostgresVoteStore } = await import('./store-postgres');
    return new PostgresVoteStore(db, opts);
  }
  const { SqliteVoteStore } = await import('./store-sqlite');
  return new SqliteVoteStore(db);
}

/** The URL with its password replaced, for logs and error messages. */
export function redactUrl(db: string): string {
  if (!isPostgresUrl(db)) return db;
  try {
    const u = new URL(db);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

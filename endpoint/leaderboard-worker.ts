/**
 * The leaderboard's worker thread: it holds its own connection to the store (read-only for SQLite, a one-connection
 * pool for PostgreSQL), reads the tally and runs the fit, so a fit of a million votes never blocks the thread
 * that takes votes. One message in, one message out, matched by id.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { flagsFromTally, leaderboardFromTally, type LeaderboardFitOptions } from './leaderboard';
import { isPostgresUrl, StoreUnavailableError, type VoteStore } from './store';
import { SqliteVoteStore } from './store-sqlite';
import { PostgresVoteStore } from './store-postgres';

export interface WorkerSetup {
  db: string;
}

export type WorkerJob =
  | { id: number; kind: 'warm' }
  | { id: number; kind: 'fit'; options: LeaderboardFitOptions; knownSignature: string | null }
  | { id: number; kind: 'flags'; options: LeaderboardFitOptions };

export type WorkerReply =
  | { id: number; ok: true; kind: 'warm' }
  | { id: number; ok: true; kind: 'fit'; unchanged: true; signature: string }
  | { id: number; ok: true; kind: 'fit'; unchanged: false; signature: string; body: string; votes: number; dbMs: number; fitMs: number }
  | { id: number; ok: true; kind: 'flags'; flags: ReturnType<typeof flagsFromTally> }
  | { id: number; ok: false; error: string; unavailable: boolean };

const { db } = workerData as WorkerSetup;
let store: VoteStore | null = null;
const getStore = () =>
  (store ??= isPostgresUrl(db) ? new PostgresVoteStore(db, { poolSize: 1, statementTimeoutMs: 600_000 }) : new SqliteVoteStore(db, { readonly: true }));

async function run(job: WorkerJob): Promise<WorkerReply> {
  const s = getStore();
  if (job.kind === 'warm') return { id: job.id, ok: true, kind: 'warm' };
  if (job.kind === 'flags') {
    return { id: job.id, ok: true, kind: 'flags', flags: flagsFromTally(await s.tally(job.options.minDecideMs), job.options) };
  }
  const t0 = performance.now();
  // Read before the tally: a vote stored in between changes the next signature, so it is never missed.
  const signature = await s.signature();
  if (signature === job.knownSignature) return { id: job.id, ok: true, kind: 'fit', unchanged: true, signature };
  const groups = await s.tally(job.options.minDecideMs);
  const t1 = performance.now();
  const lb = leaderboardFromTally(groups, job.options);
  const t2 = performance.now();
  return { id: job.id, ok: true, kind: 'fit', unchanged: false, signature, body: JSON.stringify(lb), votes: lb.totalVotes, dbMs: t1 - t0, fitMs: t2 - t1 };
}

parentPort!.on('message', (job: WorkerJob) => {
  run(job).then(
    (reply) => parentPort!.postMessage(reply),
    // The pool reconnects by itself after a PostgreSQL restart; the read-only SQLite connection never goes stale.
    (e: unknown) => {
      parentPort!.postMessage({ id: job.id, ok: false, error: String((e as Error)?.message ?? e), unavailable: e instanceof StoreUnavailableError } satisfies WorkerReply);
    },
  );
});

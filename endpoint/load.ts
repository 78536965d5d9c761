/**
 * Bounded load on a local vote endpoint: posts simulated votes in batches, retrying as the protocol says clients
 * should (network errors, 429 and 5xx, with backoff and Retry-After), then prints a JSON summary with the latency
 * of the acknowledged requests.
 *   node --import tsx endpoint/load.ts --url http://127.0.0.1:8787 [--votes 10000] [--batch 500] [--concurrency 4]
 *     [--seed 1] [--time-limit-s 60] [--token T]
 * Loopback only, at most 100,000 votes, 64 clients and 600 s: it exists to test the endpoint, never to flood
 * someone's server. `npm run endpoint:load` (bench.ts) runs it against both stores.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { MAX_BATCH_VOTES, type Vote } from '../src/shared/votes';
import { simulateVotes } from './simulate';

export const LOAD_RATINGS: Record<string, number> = {
  'equal-loudness': 1000,
  'mix-unet-fp32': 1120,
  'mix-unet-int8': 1100,
  'mix-gru-fp32': 1050,
  'mix-gru-int8': 980,
  'random-gains': 800,
};

export const MAX_LOAD_VOTES = 100_000;
export const MAX_LOAD_CONCURRENCY = 64;
const MAX_TIME_LIMIT_S = 600;

export interface LoadOptions {
  url: string;
  votes: number;
  batch: number;
  concurrency: number;
  seed: number;
  timeLimitS: number;
  token?: string;
  /** Start no new batch after this many ms (the run then reports what it posted). Default: post them all. */
  stopAfterMs?: number;
  /** Tries per batch before giving up. Default 6. */
  attempts?: number;
}

export interface LoadSummary {
  posted: number;
  accepted: number;
  duplicates: number;
  batches: number;
  retries: number;
  ms: number;
  votesPerSecond: number;
  /** Acknowledged requests, and their latency from sending to the parsed answer (the try that succeeded). */
  requests: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** The exact votes a run with this seed posts, so a test can fit them in process. */
export function loadVotes(count: number, seed: number): Vote[] {
  return simulateVotes({ ratings: LOAD_RATINGS, count, seed, clients: 200, tieRate: 0.1 });
}

function assertLoopback(url: string): URL {
  const u = new URL(url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname) || u.protocol !== 'http:') {
    throw new Error(`load: ${url} is not a loopback http URL; this script only loads a local endpoint`);
  }
  return u;
}

export async function runLoad(opts: LoadOptions): Promise<LoadSummary> {
  const base = assertLoopback(opts.url);
  if (!(opts.votes >= 1 && opts.votes <= MAX_LOAD_VOTES)) throw new Error(`load: --votes must be 1..${MAX_LOAD_VOTES}`);
  if (!(opts.batch >= 1 && opts.batch <= MAX_BATCH_VOTES)) throw new Error(`load: --batch must be 1..${MAX_BATCH_VOTES}`);
  const concurrency = Math.max(1, Math.min(MAX_LOAD_CONCURRENCY, opts.concurrency));
  const attempts = Math.max(1, opts.attempts ?? 6);
  const deadlineAt = performance.now() + Math.min(MAX_TIME_LIMIT_S, opts.timeLimitS) * 1000;
  const pastDeadline = () => performance.now() >= deadlineAt;
  const votes = loadVotes(opts.votes, opts.seed);
  const batches: Vote[][] = [];
  for (let i = 0; i < votes.length; i += opts.batch) batches.push(votes.slice(i, i + opts.batch));
  const target = new URL('/v1/votes', base);
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;

  const summary = { posted: 0, accepted: 0, duplicates: 0, batches: 0, retries: 0 };
  const latencies: number[] = [];
  const t0 = performance.now();
  let next = 0;
  async function postBatch(batch: Vote[]): Promise<void> {
    const body = JSON.stringify({ votes: batch });
    let lastFailure = '';
    for (let attempt = 0; ; attempt++) {
      let retryAfterS = 0;
      try {
        const sent = performance.now();
        // One signal per request: thousands of requests on one shared signal pile up listeners on it.
        const res = await fetch(target, { method: 'POST', headers, body, signal: AbortSignal.timeout(Math.max(1, Math.ceil(deadlineAt - sent))) });
        const reply = (await res.json()) as { accepted?: number; duplicates?: number; error?: string };
        if (res.ok) {
          latencies.push(performance.now() - sent);
          summary.batches++;
          summary.posted += batch.length;
          summary.accepted += reply.accepted ?? 0;
          summary.duplicates += reply.duplicates ?? 0;
          return;
        }
        if (res.status !== 429 && res.status < 500) throw new Error(`load: batch rejected with ${res.status}: ${reply.error}`);
        retryAfterS = Number(res.headers.get('Retry-After') ?? 0);
        lastFailure = `HTTP ${res.status}: ${reply.error}`;
      } catch (e) {
        if (pastDeadline()) throw new Error(`load: time limit of ${opts.timeLimitS} s reached`);
        if ((e as Error).message.startsWith('load:')) throw e;
        lastFailure = String((e as Error).cause ?? (e as Error).message);
      }
      if (attempt >= attempts - 1) throw new Error(`load: a batch failed ${attempt + 1} times; giving up (last: ${lastFailure})`);
      summary.retries++;
      await new Promise((r) => setTimeout(r, Math.max(retryAfterS * 1000, 100 * 2 ** attempt)));
    }
  }
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < batches.length && !(opts.stopAfterMs !== undefined && performance.now() - t0 >= opts.stopAfterMs)) await postBatch(batches[next++]);
    }),
  );
  const ms = performance.now() - t0;
  const sorted = Float64Array.from(latencies).sort();
  return {
    ...summary,
    ms: Math.round(ms),
    votesPerSecond: Math.round((summary.posted / ms) * 1000),
    requests: latencies.length,
    p50Ms: Math.round(percentile(sorted, 0.5) * 10) / 10,
    p99Ms: Math.round(percentile(sorted, 0.99) * 10) / 10,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      votes: { type: 'string', default: '10000' },
      batch: { type: 'string', default: String(MAX_BATCH_VOTES) },
      concurrency: { type: 'string', default: '4' },
      seed: { type: 'string', default: '1' },
      'time-limit-s': { type: 'string', default: '60' },
      token: { type: 'string' },
    },
  });
  if (!values.url) {
    console.error('load: --url http://127.0.0.1:PORT is required');
    process.exit(2);
  }
  runLoad({
    url: values.url,
    votes: Number(values.votes),
    batch: Number(values.batch),
    concurrency: Number(values.concurrency),
    seed: Number(values.seed),
    timeLimitS: Number(values['time-limit-s']),
    token: values.token ?? process.env.VOTES_TOKEN,
  }).then(
    (s) => console.log(JSON.stringify(s)),
    (e: Error) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}

/**
 * `npm run endpoint:load`: the vote endpoint under load on each store, on loopback only, bounded in votes and time.
 *   1. Votes per second held, and p50/p99 request latency, at 1, 8 and 64 concurrent clients posting small batches
 *      (what app installations send), for SQLite and for PostgreSQL, each on a fresh database.
 *   2. The leaderboard at 10k, 100k and 1M stored votes: the fit's time (tally query + rating, in the worker) and
 *      the latency of GET /v1/leaderboard served from the cache and while a refit runs.
 * It starts its own endpoint processes and a throwaway PostgreSQL server (durable: fsync on), prints one JSON line
 * per measurement and a Markdown table at the end.
 *   npm run endpoint:load -- [--levels 1,8,64] [--seconds 4] [--batch 10] [--sizes 10000,100000,1000000]
 *     [--time-limit-s 900] [--json FILE]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { MAX_BATCH_VOTES } from '../src/shared/votes';
import { loadVotes, MAX_LOAD_CONCURRENCY, MAX_LOAD_VOTES, runLoad, type LoadSummary } from './load';
import { startLocalPostgres } from './local-postgres';
import { openStore, type VoteStore } from './store';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAX_SIZE = 1_000_000;
const MAX_SECONDS = 30;
const FILL_CHUNK = 5000;

const { values } = parseArgs({
  options: {
    levels: { type: 'string', default: '1,8,64' },
    seconds: { type: 'string', default: '4' },
    batch: { type: 'string', default: '10' },
    sizes: { type: 'string', default: '10000,100000,1000000' },
    'time-limit-s': { type: 'string', default: '900' },
    json: { type: 'string' },
  },
});
const ints = (s: string) => s.split(',').map((x) => Number(x.trim()));
const levels = ints(values.levels);
const seconds = Number(values.seconds);
const batch = Number(values.batch);
const sizes = ints(values.sizes).sort((a, b) => a - b);
const timeLimitS = Number(values['time-limit-s']);
if (levels.some((c) => !Number.isSafeInteger(c) || c < 1 || c > MAX_LOAD_CONCURRENCY)) throw new Error(`--levels: integers 1..${MAX_LOAD_CONCURRENCY}`);
if (!(seconds > 0 && seconds <= MAX_SECONDS)) throw new Error(`--seconds: 0..${MAX_SECONDS}`);
if (!(Number.isSafeInteger(batch) && batch >= 1 && batch <= MAX_BATCH_VOTES)) throw new Error(`--batch: 1..${MAX_BATCH_VOTES}`);
if (sizes.some((n) => !Number.isSafeInteger(n) || n < FILL_CHUNK || n > MAX_SIZE)) throw new Error(`--sizes: integers ${FILL_CHUNK}..${MAX_SIZE}`);
const deadline = Date.now() + timeLimitS * 1000;
const checkTime = () => {
  if (Date.now() > deadline) throw new Error(`endpoint:load: time limit of ${timeLimitS} s reached`);
};

const log = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

interface Endpoint {
  url: string;
  stop(): Promise<void>;
}

function startEndpoint(db: string, extra: string[] = []): Promise<Endpoint> {
  const env = { ...process.env };
  for (const k of ['PORT', 'VOTES_DB', 'VOTES_TOKEN', 'VOTES_ADMIN_TOKEN', 'VOTES_ORIGIN', 'VOTES_HOST']) delete env[k];
  const args = ['--import', 'tsx', 'endpoint/main.ts', '--host', '127.0.0.1', '--port', '0', '--db', db, '--rate', '1000000000', '--burst', '1000000000', ...extra];
  const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<void>((r) => proc.once('exit', () => (running.delete(proc), r())));
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`endpoint exited with ${code}: ${err}`)));
    proc.stdout!.on('data', (d: Buffer) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line) resolve({ url: JSON.parse(line).url, stop: () => (proc.kill('SIGTERM'), exited) });
    });
  });
}

interface Throughput {
  store: string;
  clients: number;
  votesPerSecond: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  retries: number;
}

interface LeaderboardTiming {
  store: string;
  votes: number;
  fillVotesPerSecond: number;
  dbMs: number;
  fitMs: number;
  rounds: number;
  cachedGetMs: number;
  getDuringRefitMs: number;
}

const serverTiming = (h: string | null) => {
  const m = /db;dur=([\d.]+), fit;dur=([\d.]+)/.exec(h ?? '');
  return m ? { dbMs: Number(m[1]), fitMs: Number(m[2]) } : { dbMs: NaN, fitMs: NaN };
};

async function timedGet(url: string): Promise<{ ms: number; res: Response; body: Record<string, any> }> {
  const t = performance.now();
  const res = await fetch(url);
  const body = (await res.json()) as Record<string, any>;
  return { ms: performance.now() - t, res, body };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'votes-bench-'));
  const pgServer = await startLocalPostgres();
  const host = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: round(totalmem() / 2 ** 30, 0),
    loadAverageAtStart: loadavg().map((x) => round(x, 2)),
    node: process.version,
    postgres: (await pgServer.version()).split(' on ')[0],
    sqlite: (new Database(':memory:').prepare('SELECT sqlite_version() AS v').get() as { v: string }).v,
  };
  log({ event: 'host', ...host });
  const stores = [
    { name: 'SQLite', db: (tag: string) => Promise.resolve(join(dir, `${tag}.db`)) },
    { name: 'PostgreSQL', db: (tag: string) => pgServer.createDatabase(tag) },
  ];
  const throughput: Throughput[] = [];
  const leaderboards: LeaderboardTiming[] = [];
  try {
    // 1. Votes per second and latency.
    let seed = 1000;
    for (const store of stores) {
      const db = await store.db('bench_http');
      const ep = await startEndpoint(db);
      try {
        for (const clients of levels) {
          checkTime();
          const s: LoadSummary = await runLoad({ url: ep.url, votes: MAX_LOAD_VOTES, batch, concurrency: clients, seed: seed++, timeLimitS: 120, stopAfterMs: seconds * 1000 });
          const row = {
            store: store.name,
            clients,
            votesPerSecond: s.votesPerSecond,
            requestsPerSecond: Math.round((s.requests / s.ms) * 1000),
            p50Ms: s.p50Ms,
            p99Ms: s.p99Ms,
            requests: s.requests,
            retries: s.retries,
          };
          throughput.push(row);
          log({ event: 'throughput', batch, seconds, ...row });
        }
      } finally {
        await ep.stop();
      }
    }

    // 2. The leaderboard as the store grows: both stores filled with the same votes, chunk by chunk.
    const targets: { name: string; db: string; store: VoteStore; fillMs: number }[] = [];
    for (const s of stores) {
      const db = await s.db('bench_leaderboard');
      const store = await openStore(db);
      await store.migrate();
      targets.push({ name: s.name, db, store, fillMs: 0 });
    }
    let filled = 0;
    let extra = 0;
    for (const size of sizes) {
      while (filled < size) {
        checkTime();
        const chunk = loadVotes(FILL_CHUNK, 5_000_000 + filled / FILL_CHUNK);
        for (const t of targets) {
          const t0 = performance.now();
          for (let i = 0; i < chunk.length; i += MAX_BATCH_VOTES) await t.store.insert(chunk.slice(i, i + MAX_BATCH_VOTES));
          t.fillMs += performance.now() - t0;
        }
        filled += FILL_CHUNK;
      }
      for (const t of targets) {
        checkTime();
        // Wait 0: GET never waits for a fit; it answers 503 until the first one, then the cache.
        const ep = await startEndpoint(t.db, ['--leaderboard-wait-ms', '0']);
        try {
          const lbUrl = `${ep.url}/v1/leaderboard`;
          let first = await timedGet(lbUrl);
          while (first.res.status !== 200) {
            checkTime();
            await new Promise((r) => setTimeout(r, 100));
            first = await timedGet(lbUrl);
          }
          if (first.body.totalVotes !== filled + extra) throw new Error(`${t.name}: leaderboard of ${first.body.totalVotes} votes, expected ${filled + extra}`);
          const { dbMs, fitMs } = serverTiming(first.res.headers.get('server-timing'));
          const cached: number[] = [];
          for (let i = 0; i < 20; i++) cached.push((await timedGet(lbUrl)).ms);
          // One more batch: the next GET answers with the previous fit at once while the refit runs.
          const more = loadVotes(batch, 9_000_000 + size);
          const posted = await fetch(`${ep.url}/v1/votes`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ votes: more }) });
          if (!posted.ok) throw new Error(`${t.name}: POST answered ${posted.status}`);
          const during = await timedGet(lbUrl);
          if (during.res.headers.get('x-leaderboard-stale') !== 'true') throw new Error(`${t.name}: expected the previous fit while refitting`);
          const row = {
            store: t.name,
            votes: size,
            fillVotesPerSecond: Math.round((filled / t.fillMs) * 1000),
            dbMs: round(dbMs, 0),
            fitMs: round(fitMs, 0),
            rounds: first.body.bootstrap.rounds as number,
            cachedGetMs: round(median(cached), 2),
            getDuringRefitMs: round(during.ms, 2),
          };
          leaderboards.push(row);
          log({ event: 'leaderboard', ...row });
        } finally {
          await ep.stop();
        }
      }
      extra += batch; // the batch each store took above
    }
    for (const t of targets) await t.store.close();
  } finally {
    await pgServer.destroy();
    rmSync(dir, { recursive: true, force: true });
  }

  const table = [
    `Host: ${host.cpu}, ${host.cores} cores, ${host.memoryGiB} GiB, load average ${host.loadAverageAtStart.join(' / ')} at start; ${host.node}; ${host.postgres}; SQLite ${host.sqlite}.`,
    '',
    `| Store | Clients | Votes/s | Requests/s | p50 ms | p99 ms |`,
    `|---|---:|---:|---:|---:|---:|`,
    ...throughput.map((r) => `| ${r.store} | ${r.clients} | ${r.votesPerSecond} | ${r.requestsPerSecond} | ${r.p50Ms} | ${r.p99Ms} |`),
    '',
    `| Store | Votes stored | Bootstrap rounds | Tally query ms | Fit ms | GET (cached) ms | GET during refit ms |`,
    `|---|---:|---:|---:|---:|---:|---:|`,
    ...leaderboards.map((r) => `| ${r.store} | ${r.votes.toLocaleString('en-US')} | ${r.rounds} | ${r.dbMs} | ${r.fitMs} | ${r.cachedGetMs} | ${r.getDuringRefitMs} |`),
  ].join('\n');
  console.log(`\n${table}`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify({ host, batch, seconds, throughput, leaderboards }, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
  },
);

// The vote endpoint as deployed: a real server process on a free loopback port, on each store in turn: a SQLite
// file per test, and a database per test on a real PostgreSQL server started for this file (endpoint/local-postgres.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { leaderboardFromVotes } from '../../src/rating/gaming-flags';
import { MAX_BATCH_VOTES, MAX_BODY_BYTES, type Vote } from '../../src/shared/votes';
import { centredRatings, simulateVotes } from '../../endpoint/simulate';
import { LOAD_RATINGS, loadVotes, runLoad } from '../../endpoint/load';
import { startLocalPostgres, type LocalPostgres } from '../../endpoint/local-postgres';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vote-endpoint-'));
const running = new Set<ChildProcess>();
const TOKEN = 'test-token-1234';
const ADMIN_TOKEN = 'admin-token-5678';

afterAll(() => {
  for (const p of running) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Server {
  url: string;
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  stop(): Promise<void>;
}

/** Starts `node --import tsx endpoint/main.ts --port 0 …` and resolves with the URL it prints once listening. */
function startServer(db: string, args: string[] = []): Promise<Server> {
  const env = { ...process.env };
  for (const k of ['PORT', 'VOTES_DB', 'VOTES_TOKEN', 'VOTES_ADMIN_TOKEN', 'VOTES_ORIGIN', 'VOTES_HOST']) delete env[k];
  const proc = spawn(process.execPath, ['--import', 'tsx', 'endpoint/main.ts', '--port', '0', '--db', db, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => (running.delete(proc), resolve())));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`endpoint did not start in 20 s: ${err}`)), 20_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`endpoint exited with ${code}: ${err}`));
    });
    proc.stdout!.on('data', (d: Buffer) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (!line) return;
      clearTimeout(timer);
      resolve({
        url: JSON.parse(line).url as string,
        proc,
        stdout: () => out,
        stderr: () => err,
        stop: () => {
          proc.kill('SIGTERM');
          return exited;
        },
      });
    });
  });
}

/** Runs the endpoint's command line to its exit (for arguments it must refuse). */
function runMain(args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'endpoint/main.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d));
    p.on('exit', (code) => resolve({ code, err }));
  });
}

type StoreKind = 'sqlite' | 'postgres';

interface Stored {
  count: number;
  distinct: number;
  ids: Set<string>;
}

/** A fresh database of one kind, and its rows read behind the server's back. */
interface Target {
  db: string;
  stored(): Promise<Stored>;
  /** PostgreSQL: waits until no connection of a (killed) endpoint is still running a statement. */
  settle(): Promise<void>;
  /** SQLite: PRAGMA integrity_check. */
  integrity(): Promise<string>;
}

let postgres: LocalPostgres | null = null;

async function newTarget(kind: StoreKind, name: string): Promise<Target> {
  if (kind === 'sqlite') {
    const db = join(dir, `${name}.db`);
    return {
      db,
      settle: async () => {},
      stored: async () => {
        const conn = new Database(db, { readonly: true, fileMustExist: true });
        try {
          const ids = new Set((conn.prepare('SELECT id FROM votes').all() as { id: string }[]).map((r) => r.id));
          const { count, distinct } = conn.prepare('SELECT COUNT(*) AS count, COUNT(DISTINCT id) AS "distinct" FROM votes').get() as { count: number; distinct: number };
          return { count, distinct, ids };
        } finally {
          conn.close();
        }
      },
      integrity: async () => {
        const conn = new Database(db, { readonly: true });
        try {
          return conn.pragma('integrity_check', { simple: true }) as string;
        } finally {
          conn.close();
        }
      },
    };
  }
  const db = await postgres!.createDatabase(name);
  const query = async <R extends pg.QueryResultRow>(sql: string): Promise<R[]> => {
    const c = new pg.Client({ connectionString: db });
    await c.connect();
    try {
      return (await c.query<R>(sql)).rows;
    } finally {
      await c.end();
    }
  };
  return {
    db,
    stored: async () => {
      const ids = new Set((await query<{ id: string }>('SELECT id FROM votes')).map((r) => r.id));
      const [{ count, distinct }] = await query<{ count: number; distinct: number }>('SELECT count(*)::int AS count, count(DISTINCT id)::int AS "distinct" FROM votes');
      return { count, distinct, ids };
    },
    settle: async () => {
      for (let i = 0; i < 200; i++) {
        const [{ n }] = await query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = '${name}' AND application_name = 'ai-mixer-votes'`);
        if (n === 0) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('the killed endpoint\'s PostgreSQL connections did not go away in 10 s');
    },
    integrity: async () => 'ok',
  };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v1/votes`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : body instanceof Uint8Array ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

const votes = (count: number, seed: number, extra: Partial<Parameters<typeof simulateVotes>[0]> = {}) =>
  simulateVotes({ ratings: { 'equal-loudness': 1000, 'mix-unet-fp32': 1100, 'mix-unet-int8': 1080 }, count, seed, ...extra });

function batches(all: Vote[], size: number): Vote[][] {
  const out: Vote[][] = [];
  for (let i = 0; i < all.length; i += size) out.push(all.slice(i, i + size));
  return out;
}

const open = { rate: ['--rate', '1000000', '--burst', '100000', '--leaderboard-wait-ms', '60000'] };

const getJson = async (url: string, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, any> };
};

async function admin(url: string, path: string, body?: unknown, token = ADMIN_TOKEN) {
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(['sqlite', 'postgres'] as const)('vote endpoint on %s', (kind) => {
  if (kind === 'postgres') {
    // No PostgreSQL, no pass: startLocalPostgres installs it (scripts/ensure-postgres.sh) or throws, failing every test here.
    beforeAll(async () => {
      postgres = await startLocalPostgres({ durable: false });
    }, 300_000);
    afterAll(async () => {
      await postgres?.destroy();
      postgres = null;
    });
  }

  it('stores the same batch once, however often it is sent', async () => {
    const t = await newTarget(kind, 'idempotent');
    const s = await startServer(t.db, open.rate);
    try {
      expect(await (await fetch(`${s.url}/v1/health`)).json()).toEqual({ ok: true, protocol: 1, votes: 0 });
      const batch = votes(50, 1);
      expect((await post(s.url, { votes: batch })).json).toEqual({ accepted: 50, duplicates: 0 });
      expect((await post(s.url, { votes: batch })).json).toEqual({ accepted: 0, duplicates: 50 });
      // Overlapping retry: 10 old, 10 new, one new vote sent twice in the same batch.
      const fresh = votes(10, 2);
      const mixed = [...batch.slice(0, 10), ...fresh, fresh[0]];
      expect((await post(s.url, { votes: mixed })).json).toEqual({ accepted: 10, duplicates: 11 });
      expect(await t.stored()).toMatchObject({ count: 60, distinct: 60 });
      expect(((await (await fetch(`${s.url}/v1/health`)).json()) as { votes: number }).votes).toBe(60);
    } finally {
      await s.stop();
    }
  });

  it('answers bad requests with 4xx and a JSON error, and stores nothing', async () => {
    const t = await newTarget(kind, 'reject');
    const origin = 'https://mixer.example';
    const s = await startServer(t.db, [...open.rate, '--token', TOKEN, '--origin', origin]);
    const auth = { Authorization: `Bearer ${TOKEN}` };
    try {
      const good = votes(20, 3);
      expect((await post(s.url, { votes: good }, auth)).json).toEqual({ accepted: 20, duplicates: 0 });
      const before = (await t.stored()).count;
      const fresh = () => votes(20, 4);
      const withVote = (over: Record<string, unknown>) => ({ votes: [...fresh().slice(1), { ...fresh()[0], ...over }] });

      const cases: [string, () => Promise<{ status: number; json: Record<string, unknown> }>, number, string, string?][] = [
        ['malformed JSON', () => post(s.url, '{"votes":[{"id":', auth), 400, 'bad_json'],
        ['invalid UTF-8', () => post(s.url, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), auth), 400, 'bad_json'],
        ['a number for winner', () => post(s.url, withVote({ winner: 3 }), auth), 400, 'invalid_vote', 'votes.19.winner'],
        ['a string timestamp', () => post(s.url, withVote({ ts: '2026-05-01' }), auth), 400, 'invalid_vote', 'votes.19.ts'],
        ['votes not an array', () => post(s.url, { votes: fresh()[0] }, auth), 400, 'invalid_vote', 'votes'],
        ['an ill-formed model id', () => post(s.url, withVote({ a: 'Mix/../etc' }), auth), 400, 'invalid_vote', 'votes.19.a'],
        ['a model against itself', () => post(s.url, withVote({ a: 'x', b: 'x' }), auth), 400, 'invalid_vote', 'votes.19.b'],
        ['an empty batch', () => post(s.url, { votes: [] }, auth), 400, 'invalid_vote', 'votes'],
        ['too many votes', () => post(s.url, { votes: votes(MAX_BATCH_VOTES + 1, 5) }, auth), 400, 'invalid_vote', 'votes'],
        ['a huge body', () => post(s.url, `{"votes":[${' '.repeat(MAX_BODY_BYTES)}]}`, auth), 413, 'too_large'],
        ['no token', () => post(s.url, { votes: fresh() }), 401, 'unauthorized'],
        ['a wrong token', () => post(s.url, { votes: fresh() }, { Authorization: `Bearer ${TOKEN}x` }), 401, 'unauthorized'],
        ['a wrong content type', () => post(s.url, { votes: fresh() }, { ...auth, 'Content-Type': 'text/plain' }), 415, 'unsupported_media_type'],
        ['a foreign origin', () => post(s.url, { votes: fresh() }, { ...auth, Origin: 'https://evil.example' }), 403, 'forbidden_origin'],
      ];
      for (const [what, send, status, code, field] of cases) {
        const res = await send();
        expect(res.status, what).toBe(status);
        expect(res.json.code, what).toBe(code);
        expect(typeof res.json.error, what).toBe('string');
        if (field) expect(res.json.field, what).toBe(field);
        expect((await t.stored()).count, what).toBe(before);
      }

      const wrongMethod = await fetch(`${s.url}/v1/votes`);
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get('allow')).toBe('POST');
      expect((await fetch(`${s.url}/v2/votes`)).status).toBe(404);

      // A model nobody has seen before is fine: ids are checked for form, not against a list.
      const newModel = votes(5, 6).map((v) => ({ ...v, b: 'brand-new-model.v9' }));
      expect((await post(s.url, { votes: newModel }, auth)).json).toEqual({ accepted: 5, duplicates: 0 });
      expect((await t.stored()).count).toBe(before + 5);
    } finally {
      await s.stop();
    }
  });

  it('stops reading a streamed body past the limit and answers 413', async () => {
    const t = await newTarget(kind, 'stream');
    const s = await startServer(t.db, open.rate);
    try {
      const total = 64 * 1024 * 1024;
      // The server answers 413 and, past a further 1 MiB, cuts the connection; under load the client
      // can see that reset before it has parsed the answer. Either way the server stopped reading.
      const result = await new Promise<{ status: number; body: string; written: number; reset?: boolean }>((resolve) => {
        // No Content-Length: chunked, so the server can only find out by counting.
        const req = request(`${s.url}/v1/votes`, { method: 'POST', headers: { 'Content-Type': 'application/json' } });
        let written = 0;
        let answered = false;
        req.on('response', (res) => {
          answered = true;
          let body = '';
          res.on('data', (d: Buffer) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, body, written }));
          res.on('error', () => resolve({ status: res.statusCode!, body, written }));
        });
        req.on('error', () => {
          if (!answered) resolve({ status: 0, body: '', written, reset: true });
        });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (!answered && written < total) {
            written += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          if (!answered) req.end();
        };
        req.write('{"votes":[');
        pump();
      });
      if (!result.reset) {
        expect(result.status).toBe(413);
        expect(JSON.parse(result.body).code).toBe('too_large');
      }
      // The answer came long before the client finished: the server did not read 64 MiB.
      expect(result.written).toBeLessThan(total / 2);
      expect((await t.stored()).count).toBe(0);
      expect((await fetch(`${s.url}/v1/health`)).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  it('allows the configured origin through CORS, preflight included', async () => {
    const t = await newTarget(kind, 'cors');
    const origin = 'http://127.0.0.1:4173';
    const s = await startServer(t.db, [...open.rate, '--origin', `${origin},https://mixer.example`]);
    try {
      const pre = await fetch(`${s.url}/v1/votes`, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,authorization' },
      });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe(origin);
      expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
      expect(pre.headers.get('access-control-allow-headers')!.toLowerCase()).toContain('authorization');
      expect(pre.headers.get('vary')).toBe('Origin');
      const res = await post(s.url, { votes: votes(3, 7) }, { Origin: origin });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      const lb = await fetch(`${s.url}/v1/leaderboard`, { headers: { Origin: 'https://mixer.example' } });
      expect(lb.headers.get('access-control-allow-origin')).toBe('https://mixer.example');
      const foreign = await fetch(`${s.url}/v1/leaderboard`, { method: 'OPTIONS', headers: { Origin: 'https://evil.example' } });
      expect(foreign.status).toBe(403);
      expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await s.stop();
    }
  });

  it('rate-limits each client with a token bucket (429 with Retry-After)', async () => {
    const t = await newTarget(kind, 'rate');
    const s = await startServer(t.db, ['--rate', '6', '--burst', '3']);
    try {
      const batch = votes(4, 8);
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await post(s.url, { votes: batch })).status);
      expect(statuses).toEqual([200, 200, 200]);
      const limited = await post(s.url, { votes: votes(4, 9) });
      expect(limited.status).toBe(429);
      expect(limited.json.code).toBe('rate_limited');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await fetch(`${s.url}/v1/leaderboard`)).status).toBe(429);
      expect((await fetch(`${s.url}/v1/health`)).status).toBe(200);
      expect((await t.stored()).count).toBe(4);
    } finally {
      await s.stop();
    }
  });

  it('loses and duplicates nothing when killed mid-batch and retried', async () => {
    const t = await newTarget(kind, 'crash');
    const all = votes(4000, 10, { clients: 40 });
    const parts = batches(all, 500);
    const first = await startServer(t.db, open.rate);

    // One batch half uploaded when the server dies…
    const partial = new Promise<string>((resolve) => {
      const req = request(`${first.url}/v1/votes`, { method: 'POST', headers: { 'Content-Type': 'application/json' } });
      req.on('response', () => resolve('answered'));
      req.on('error', () => resolve('failed'));
      const body = JSON.stringify({ votes: parts[0] });
      req.write(body.slice(0, body.length / 2));
    });
    // …and the others sent together: the kill lands as soon as the first is acknowledged, with the rest in flight.
    const acknowledged: number[] = [];
    let firstAck!: () => void;
    const gotFirstAck = new Promise<void>((r) => (firstAck = r));
    const inFlight = parts.slice(1).map((batch, k) =>
      post(first.url, { votes: batch }).then(
        (res) => {
          expect(res.json).toEqual({ accepted: 500, duplicates: 0 });
          acknowledged.push(k + 1);
          firstAck();
          return 'acknowledged';
        },
        () => 'failed',
      ),
    );
    await gotFirstAck;
    first.proc.kill('SIGKILL');
    const outcomes = await Promise.all(inFlight);
    expect(await partial).toBe('failed');
    expect(outcomes).toContain('failed');

    // Every acknowledged vote survived the kill.
    await t.settle();
    const afterKill = await t.stored();
    console.log(`${kind} kill: ${acknowledged.length} of 7 concurrent batches acknowledged, ${afterKill.count} votes on disk after SIGKILL`);
    for (const k of acknowledged) for (const v of parts[k]) expect(afterKill.ids.has(v.id)).toBe(true);
    expect(afterKill.count).toBe(afterKill.distinct);

    const second = await startServer(t.db, open.rate);
    try {
      let accepted = 0;
      for (const [k, batch] of parts.entries()) {
        const res = await post(second.url, { votes: batch });
        expect(res.status).toBe(200);
        expect((res.json.accepted as number) + (res.json.duplicates as number)).toBe(500);
        if (acknowledged.includes(k)) expect(res.json.accepted).toBe(0);
        accepted += res.json.accepted as number;
      }
      expect(accepted).toBe(4000 - afterKill.count);
      const final = await t.stored();
      expect(final.count).toBe(4000);
      expect(final.distinct).toBe(4000);
      expect([...final.ids].sort()).toEqual(all.map((v) => v.id).sort());
      expect(await t.integrity()).toBe('ok');
    } finally {
      await second.stop();
    }
  });

  it('takes 10,000 votes from the load script and serves the same leaderboard as an in-process fit', async () => {
    const t = await newTarget(kind, 'load');
    const s = await startServer(t.db, open.rate);
    const runLoad = (url: string, extra: string[] = []) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const p = spawn(process.execPath, ['--import', 'tsx', 'endpoint/load.ts', '--url', url, '--votes', '10000', '--batch', '500', '--concurrency', '4', '--seed', '21', '--time-limit-s', '60', ...extra], { cwd: ROOT });
        running.add(p);
        let out = '';
        let err = '';
        p.stdout.on('data', (d: Buffer) => (out += d));
        p.stderr.on('data', (d: Buffer) => (err += d));
        p.on('exit', (code) => (running.delete(p), resolve({ code, out, err })));
      });
    try {
      const run = await runLoad(s.url);
      expect(run.code, run.err).toBe(0);
      const summary = JSON.parse(run.out);
      expect(summary).toMatchObject({ posted: 10_000, accepted: 10_000, duplicates: 0, batches: 20 });
      console.log(`${kind} load: 10,000 votes in ${summary.ms} ms (${summary.votesPerSecond} votes/s), ${summary.retries} retries`);
      expect(await t.stored()).toMatchObject({ count: 10_000, distinct: 10_000 });

      const t0 = performance.now();
      const served = await (await fetch(`${s.url}/v1/leaderboard`)).json();
      console.log(`${kind} leaderboard of 10,000 votes with ${served.bootstrap.rounds} bootstrap rounds: ${Math.round(performance.now() - t0)} ms`);
      const local = leaderboardFromVotes(loadVotes(10_000, 21), { bootstrap: served.bootstrap.rounds, seed: served.bootstrap.seed });
      expect(served).toEqual({ ...local, moderatedVotes: 0, bootstrap: served.bootstrap });
      expect(served.totalVotes).toBe(10_000);
      const truth = centredRatings(LOAD_RATINGS);
      for (const m of served.models) expect(Math.abs(m.rating - truth[m.id])).toBeLessThan(25);

      // Sending everything again changes nothing.
      const again = JSON.parse((await runLoad(s.url)).out);
      expect(again).toMatchObject({ posted: 10_000, accepted: 0, duplicates: 10_000 });
      expect((await t.stored()).count).toBe(10_000);

      // The script only ever loads a local endpoint.
      const remote = await runLoad('http://example.com:8787');
      expect(remote.code).toBe(1);
      expect(remote.err).toMatch(/not a loopback/);
    } finally {
      await s.stop();
    }
  });

  it('flags same-side and sub-second voting and leaves those votes out of the ratings', async () => {
    const t = await newTarget(kind, 'flags');
    const s = await startServer(t.db, [...open.rate, '--bootstrap', '200']);
    try {
      const honest = votes(400, 11, { clients: 20 });
      const gamer = '0badc0de-0000-4000-8000-000000000001';
      const hasty = '0badc0de-0000-4000-8000-000000000002';
      const sameSide = votes(25, 12).map((v) => ({ ...v, client: gamer, winner: 'a' as const }));
      const fast = votes(6, 13).map((v) => ({ ...v, client: hasty, decideMs: 350 }));
      expect((await post(s.url, { votes: [...honest, ...sameSide, ...fast] })).json).toEqual({ accepted: 431, duplicates: 0 });
      const lb = await (await fetch(`${s.url}/v1/leaderboard`)).json();
      expect(lb.flags).toEqual([
        { kind: 'same_side', client: gamer, votes: 25, side: 'a' },
        { kind: 'sub_second', client: hasty, votes: 6 },
      ]);
      expect(lb.totalVotes).toBe(431);
      expect(lb.excludedVotes).toBe(31);
      const local = leaderboardFromVotes(honest, { bootstrap: 200, seed: 1 });
      expect(lb.models).toEqual(local.models);
      expect(lb.positionBias).toEqual(local.positionBias);
      expect(lb.models.reduce((n: number, m: { votes: number }) => n + m.votes, 0)).toBe(2 * 400);
    } finally {
      await s.stop();
    }
  });

  it('moderates with its own token: lists flagged clients, excludes and restores their votes, logs each change', async () => {
    const t = await newTarget(kind, 'moderation');
    const s = await startServer(t.db, [...open.rate, '--bootstrap', '200', '--token', TOKEN, '--admin-token', ADMIN_TOKEN]);
    const auth = { Authorization: `Bearer ${TOKEN}` };
    try {
      const honest = votes(400, 21, { clients: 20 });
      const gamer = '0badc0de-0000-4000-8000-000000000011';
      const spammer = '0badc0de-0000-4000-8000-000000000012';
      const sameSide = votes(25, 22).map((v) => ({ ...v, client: gamer, winner: 'a' as const }));
      // Boosts one model, on whichever side it plays: no automatic flag catches it, a moderator has to.
      const spam = votes(60, 23).map((v) => ({ ...v, client: spammer, winner: v.a === 'equal-loudness' ? ('a' as const) : v.b === 'equal-loudness' ? ('b' as const) : v.winner }));
      expect((await post(s.url, { votes: [...honest, ...sameSide, ...spam] }, auth)).json).toEqual({ accepted: 485, duplicates: 0 });

      // Roles: the voting token never moderates, the admin token never votes.
      expect((await admin(s.url, '/v1/admin/flags', undefined, TOKEN)).status).toBe(401);
      expect((await fetch(`${s.url}/v1/admin/flags`)).status).toBe(401);
      const asAdmin = await post(s.url, { votes: votes(3, 24) }, { Authorization: `Bearer ${ADMIN_TOKEN}` });
      expect(asAdmin.status).toBe(401);
      expect((await admin(s.url, '/v1/admin/exclude', { client: spammer, reason: 'x' }, TOKEN)).status).toBe(401);

      const listed = await admin(s.url, '/v1/admin/flags');
      expect(listed.status).toBe(200);
      expect(listed.json).toEqual({ flags: [{ kind: 'same_side', client: gamer, votes: 25, side: 'a', excluded: false }], excluded: [] });

      const withSpam = leaderboardFromVotes([...honest, ...sameSide, ...spam], { bootstrap: 200, seed: 1 });
      const withoutSpam = leaderboardFromVotes([...honest, ...sameSide], { bootstrap: 200, seed: 1 });
      expect(withSpam.models).not.toEqual(withoutSpam.models);
      expect((await getJson(`${s.url}/v1/leaderboard`)).json.models).toEqual(withSpam.models);

      const reason = 'votes for equal-loudness whatever it plays against';
      const ex = await admin(s.url, '/v1/admin/exclude', { client: spammer, reason, moderator: 'alice' });
      expect(ex.status).toBe(200);
      expect(ex.json).toMatchObject({ client: spammer, excluded: true, changed: true, votes: 60, entry: { action: 'exclude', client: spammer, reason, moderator: 'alice', votes: 60 } });
      expect((await admin(s.url, '/v1/admin/exclude', { client: spammer, reason, moderator: 'alice' })).json).toMatchObject({ changed: false, votes: 60 });
      const lb = (await getJson(`${s.url}/v1/leaderboard`)).json;
      expect(lb.models).toEqual(withoutSpam.models);
      expect(lb.positionBias).toEqual(withoutSpam.positionBias);
      expect(lb.flags).toEqual(withoutSpam.flags);
      expect(lb).toMatchObject({ totalVotes: 485, excludedVotes: 25 + 60, moderatedVotes: 60 });

      expect((await admin(s.url, '/v1/admin/exclude', { client: gamer, reason: 'always side A', moderator: 'bob' })).json.changed).toBe(true);
      const after = (await admin(s.url, '/v1/admin/flags')).json;
      expect(after.flags).toEqual([{ kind: 'same_side', client: gamer, votes: 25, side: 'a', excluded: true }]);
      expect(after.excluded.map((x: { client: string; votes: number; moderator: string }) => [x.client, x.votes, x.moderator])).toEqual(
        [
          [gamer, 25, 'bob'],
          [spammer, 60, 'alice'],
        ].sort((x, y) => (x[0] < y[0] ? -1 : 1)),
      );

      const restored = await admin(s.url, '/v1/admin/restore', { client: spammer, reason: 'appeal accepted', moderator: 'carol' });
      expect(restored.json).toMatchObject({ client: spammer, excluded: false, changed: true, votes: 60 });
      expect((await admin(s.url, '/v1/admin/restore', { client: spammer, reason: 'again' })).json.changed).toBe(false);
      const back = (await getJson(`${s.url}/v1/leaderboard`)).json;
      expect(back.models).toEqual(leaderboardFromVotes([...honest, ...spam], { bootstrap: 200, seed: 1 }).models);
      expect(back).toMatchObject({ totalVotes: 485, moderatedVotes: 25 });

      const log = (await admin(s.url, '/v1/admin/log')).json.entries as { action: string; client: string; moderator: string; reason: string; id: number; at: number }[];
      expect(log.map((e) => [e.action, e.client, e.moderator])).toEqual([
        ['restore', spammer, 'carol'],
        ['exclude', gamer, 'bob'],
        ['exclude', spammer, 'alice'],
      ]);
      expect(log[0].id).toBeGreaterThan(log[1].id);
      expect((await admin(s.url, '/v1/admin/log?limit=1')).json.entries).toHaveLength(1);
      const logged = s.stdout().split('\n').filter((l) => l.includes('"event":"moderation"')).map((l) => JSON.parse(l));
      expect(logged.map((e) => [e.action, e.client, e.moderator, e.reason])).toEqual([
        ['exclude', spammer, 'alice', reason],
        ['exclude', gamer, 'bob', 'always side A'],
        ['restore', spammer, 'carol', 'appeal accepted'],
      ]);

      const bad = await admin(s.url, '/v1/admin/exclude', { client: 'not-a-uuid', reason });
      expect([bad.status, bad.json.code, bad.json.field]).toEqual([400, 'invalid_request', 'client']);
      const noReason = await admin(s.url, '/v1/admin/exclude', { client: spammer, reason: '  ' });
      expect([noReason.status, noReason.json.field]).toEqual([400, 'reason']);
      expect((await admin(s.url, '/v1/admin/log?limit=0')).status).toBe(400);
    } finally {
      await s.stop();
    }
    // Without an admin token the moderation API is off; the same token for both roles is refused at start.
    const plain = await startServer(t.db, open.rate);
    try {
      const off = await admin(plain.url, '/v1/admin/flags');
      expect([off.status, off.json.code]).toEqual([403, 'admin_disabled']);
    } finally {
      await plain.stop();
    }
    const same = await runMain(['--port', '0', '--db', t.db, '--token', TOKEN, '--admin-token', TOKEN]);
    expect(same.code).toBe(2);
    expect(same.err).toMatch(/admin token must differ from the voting token/);
  });

  it('answers at once with the previous leaderboard while a refit runs, then serves the new one', async () => {
    const t = await newTarget(kind, 'stale');
    const s = await startServer(t.db, ['--rate', '1000000', '--burst', '100000', '--leaderboard-wait-ms', '0', '--bootstrap', '200']);
    try {
      expect((await post(s.url, { votes: votes(300, 31) })).status).toBe(200);
      // Nothing fitted yet, and no waiting: 503 with a time to come back.
      const pending = await getJson(`${s.url}/v1/leaderboard`);
      expect([pending.status, pending.json.code]).toEqual([503, 'leaderboard_pending']);
      expect(Number(pending.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const first = await until('the first fit', async () => {
        const r = await getJson(`${s.url}/v1/leaderboard`);
        return r.status === 200 ? r : undefined;
      });
      expect(first.json.totalVotes).toBe(300);
      expect(first.headers.get('x-leaderboard-stale')).toBe('false');
      expect(first.headers.get('server-timing')).toMatch(/^db;dur=[\d.]+, fit;dur=[\d.]+$/);

      expect((await post(s.url, { votes: votes(200, 32) })).status).toBe(200);
      const stale = await getJson(`${s.url}/v1/leaderboard`);
      expect(stale.status).toBe(200);
      expect(stale.headers.get('x-leaderboard-stale')).toBe('true');
      expect(stale.json).toEqual(first.json);
      const fresh = await until('the refit', async () => {
        const r = await getJson(`${s.url}/v1/leaderboard`);
        return r.json.totalVotes === 500 ? r : undefined;
      });
      expect(fresh.headers.get('x-leaderboard-stale')).toBe('false');
      expect(fresh.json.models).toEqual(leaderboardFromVotes([...votes(300, 31), ...votes(200, 32)], { bootstrap: 200, seed: 1 }).models);
    } finally {
      await s.stop();
    }
  });

  it('shows votes that another endpoint process stored in the same database', async () => {
    const t = await newTarget(kind, 'shared');
    const a = await startServer(t.db, open.rate);
    const b = await startServer(t.db, [...open.rate, '--leaderboard-recheck-ms', '0', '--bootstrap', '100']);
    try {
      expect((await getJson(`${b.url}/v1/leaderboard`)).json.totalVotes).toBe(0);
      expect((await post(a.url, { votes: votes(120, 33) })).json).toEqual({ accepted: 120, duplicates: 0 });
      expect((await post(b.url, { votes: votes(120, 33) })).json).toEqual({ accepted: 0, duplicates: 120 });
      const lb = (await getJson(`${b.url}/v1/leaderboard`)).json;
      expect(lb.totalVotes).toBe(120);
      expect(lb.models).toEqual(leaderboardFromVotes(votes(120, 33), { bootstrap: 100, seed: 1 }).models);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  if (kind === 'postgres') {
    it('answers 503 with the reason while PostgreSQL is down, never crashes, and recovers when it is back', async () => {
      const t = await newTarget(kind, 'outage');
      const s = await startServer(t.db, open.rate);
      let late: Server | null = null;
      try {
        expect((await post(s.url, { votes: votes(50, 41) })).json).toEqual({ accepted: 50, duplicates: 0 });
        expect((await getJson(`${s.url}/v1/leaderboard`)).json.totalVotes).toBe(50);
        const batch = votes(20, 42);
        await postgres!.stop('fast');
        try {
          const down = await post(s.url, { votes: batch });
          expect(down.status).toBe(503);
          expect(down.json.code).toBe('store_unavailable');
          expect(down.json.error).toMatch(/PostgreSQL .* (unreachable|failed)/);
          expect(down.headers.get('retry-after')).toBe('2');
          const health = await getJson(`${s.url}/v1/health`);
          expect([health.status, health.json.ok, health.json.code]).toEqual([503, false, 'store_unavailable']);
          // The last fit is still served.
          const lb = await getJson(`${s.url}/v1/leaderboard`);
          expect([lb.status, lb.json.totalVotes]).toEqual([200, 50]);
          // An endpoint started while the database is down listens and says why it cannot store.
          late = await startServer(t.db, open.rate);
          const lateDown = await post(late.url, { votes: batch });
          expect([lateDown.status, lateDown.json.code]).toEqual([503, 'store_unavailable']);
          expect(s.proc.exitCode).toBeNull();
        } finally {
          await postgres!.start();
        }
        expect((await post(s.url, { votes: batch })).json).toEqual({ accepted: 20, duplicates: 0 });
        expect((await post(late!.url, { votes: batch })).json).toEqual({ accepted: 0, duplicates: 20 });
        expect((await getJson(`${late!.url}/v1/health`)).json).toEqual({ ok: true, protocol: 1, votes: 70 });
        expect(await t.stored()).toMatchObject({ count: 70, distinct: 70 });
        expect(s.stderr()).toMatch(/"event":"store_unavailable"/);
      } finally {
        await Promise.all([s.stop(), late?.stop()]);
      }
    });

    it('keeps every vote exactly once through a PostgreSQL restart mid-stream, the client retrying', async () => {
      const t = await newTarget(kind, 'restart');
      const s = await startServer(t.db, open.rate);
      try {
        const total = 20_000;
        const load = runLoad({ url: s.url, votes: total, batch: 100, concurrency: 4, seed: 51, timeLimitS: 120, attempts: 10 });
        await until('2,000 votes stored', async () => ((await t.stored()).count >= 2000 ? true : undefined));
        await postgres!.stop('fast');
        await new Promise((r) => setTimeout(r, 300));
        await postgres!.start();
        const summary = await load;
        console.log(`postgres restart: ${summary.retries} retries, ${summary.accepted} accepted, ${summary.duplicates} duplicates (committed before the connection dropped)`);
        expect(summary.retries).toBeGreaterThan(0);
        expect(summary.posted).toBe(total);
        expect(summary.accepted + summary.duplicates).toBe(total);
        const final = await t.stored();
        expect(final).toMatchObject({ count: total, distinct: total });
        expect([...final.ids].sort()).toEqual(loadVotes(total, 51).map((v) => v.id).sort());
        expect(s.stderr()).toMatch(/"event":"store_unavailable"/);
      } finally {
        await s.stop();
      }
    });
  }
});

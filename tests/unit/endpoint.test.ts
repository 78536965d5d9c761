// The vote endpoint as deployed: a real server process on a free loopback port, each with its own SQLite file.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { leaderboardFromVotes } from '../../src/rating/gaming-flags';
import { MAX_BATCH_VOTES, MAX_BODY_BYTES, type Vote } from '../../src/shared/votes';
import { centredRatings, simulateVotes } from '../../endpoint/simulate';
import { LOAD_RATINGS, loadVotes } from '../../endpoint/load';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vote-endpoint-'));
const running = new Set<ChildProcess>();
const TOKEN = 'test-token-1234';

afterAll(() => {
  for (const p of running) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Server {
  url: string;
  proc: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

/** Starts `node --import tsx endpoint/main.ts --port 0 …` and resolves with the URL it prints once listening. */
function startServer(db: string, args: string[] = []): Promise<Server> {
  const env = { ...process.env };
  for (const k of ['PORT', 'VOTES_DB', 'VOTES_TOKEN', 'VOTES_ORIGIN', 'VOTES_HOST']) delete env[k];
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
        stderr: () => err,
        stop: () => {
          proc.kill('SIGTERM');
          return exited;
        },
      });
    });
  });
}

/** Rows as the database holds them, read behind the server's back. */
function stored(db: string): { count: number; distinct: number; ids: Set<string> } {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const ids = new Set((conn.prepare('SELECT id FROM votes').all() as { id: string }[]).map((r) => r.id));
    const { count, distinct } = conn.prepare('SELECT COUNT(*) AS count, COUNT(DISTINCT id) AS "distinct" FROM votes').get() as { count: number; distinct: number };
    return { count, distinct, ids };
  } finally {
    conn.close();
  }
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

const open = { rate: ['--rate', '1000000', '--burst', '100000'] };

describe('vote endpoint', () => {
  it('stores the same batch once, however often it is sent', async () => {
    const db = join(dir, 'idempotent.db');
    const s = await startServer(db, open.rate);
    try {
      expect(await (await fetch(`${s.url}/v1/health`)).json()).toEqual({ ok: true, protocol: 1, votes: 0 });
      const batch = votes(50, 1);
      expect((await post(s.url, { votes: batch })).json).toEqual({ accepted: 50, duplicates: 0 });
      expect((await post(s.url, { votes: batch })).json).toEqual({ accepted: 0, duplicates: 50 });
      // Overlapping retry: 10 old, 10 new, one new vote sent twice in the same batch.
      const fresh = votes(10, 2);
      const mixed = [...batch.slice(0, 10), ...fresh, fresh[0]];
      expect((await post(s.url, { votes: mixed })).json).toEqual({ accepted: 10, duplicates: 11 });
      expect(stored(db)).toMatchObject({ count: 60, distinct: 60 });
      expect(((await (await fetch(`${s.url}/v1/health`)).json()) as { votes: number }).votes).toBe(60);
    } finally {
      await s.stop();
    }
  });

  it('answers bad requests with 4xx and a JSON error, and stores nothing', async () => {
    const db = join(dir, 'reject.db');
    const origin = 'https://mixer.example';
    const s = await startServer(db, [...open.rate, '--token', TOKEN, '--origin', origin]);
    const auth = { Authorization: `Bearer ${TOKEN}` };
    try {
      const good = votes(20, 3);
      expect((await post(s.url, { votes: good }, auth)).json).toEqual({ accepted: 20, duplicates: 0 });
      const before = stored(db).count;
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
        expect(stored(db).count, what).toBe(before);
      }

      const wrongMethod = await fetch(`${s.url}/v1/votes`);
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get('allow')).toBe('POST');
      expect((await fetch(`${s.url}/v2/votes`)).status).toBe(404);

      // A model nobody has seen before is fine: ids are checked for form, not against a list.
      const newModel = votes(5, 6).map((v) => ({ ...v, b: 'brand-new-model.v9' }));
      expect((await post(s.url, { votes: newModel }, auth)).json).toEqual({ accepted: 5, duplicates: 0 });
      expect(stored(db).count).toBe(before + 5);
    } finally {
      await s.stop();
    }
  });

  it('stops reading a streamed body past the limit and answers 413', async () => {
    const db = join(dir, 'stream.db');
    const s = await startServer(db, open.rate);
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
      expect(stored(db).count).toBe(0);
      expect((await fetch(`${s.url}/v1/health`)).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  it('allows the configured origin through CORS, preflight included', async () => {
    const db = join(dir, 'cors.db');
    const origin = 'http://127.0.0.1:4173';
    const s = await startServer(db, [...open.rate, '--origin', `${origin},https://mixer.example`]);
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
    const db = join(dir, 'rate.db');
    const s = await startServer(db, ['--rate', '6', '--burst', '3']);
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
      expect(stored(db).count).toBe(4);
    } finally {
      await s.stop();
    }
  });

  it('loses and duplicates nothing when killed mid-batch and retried', async () => {
    const db = join(dir, 'crash.db');
    const all = votes(4000, 10, { clients: 40 });
    const parts = batches(all, 500);
    const first = await startServer(db, open.rate);

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
    const afterKill = stored(db);
    console.log(`kill: ${acknowledged.length} of 7 concurrent batches acknowledged, ${afterKill.count} votes on disk after SIGKILL`);
    for (const k of acknowledged) for (const v of parts[k]) expect(afterKill.ids.has(v.id)).toBe(true);
    expect(afterKill.count).toBe(afterKill.distinct);

    const second = await startServer(db, open.rate);
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
      const final = stored(db);
      expect(final.count).toBe(4000);
      expect(final.distinct).toBe(4000);
      expect([...final.ids].sort()).toEqual(all.map((v) => v.id).sort());
      const conn = new Database(db, { readonly: true });
      expect(conn.pragma('integrity_check', { simple: true })).toBe('ok');
      conn.close();
    } finally {
      await second.stop();
    }
  });

  it('takes 10,000 votes from the load script and serves the same leaderboard as an in-process fit', async () => {
    const db = join(dir, 'load.db');
    const s = await startServer(db, open.rate);
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
      console.log(`load: 10,000 votes in ${summary.ms} ms (${summary.votesPerSecond} votes/s), ${summary.retries} retries`);
      expect(stored(db)).toMatchObject({ count: 10_000, distinct: 10_000 });

      const t0 = performance.now();
      const served = await (await fetch(`${s.url}/v1/leaderboard`)).json();
      console.log(`leaderboard of 10,000 votes with ${served.bootstrap.rounds} bootstrap rounds: ${Math.round(performance.now() - t0)} ms`);
      const local = leaderboardFromVotes(loadVotes(10_000, 21), { bootstrap: served.bootstrap.rounds, seed: served.bootstrap.seed });
      expect(served).toEqual({ ...local, bootstrap: served.bootstrap });
      expect(served.totalVotes).toBe(10_000);
      const truth = centredRatings(LOAD_RATINGS);
      for (const m of served.models) expect(Math.abs(m.rating - truth[m.id])).toBeLessThan(25);

      // Sending everything again changes nothing.
      const again = JSON.parse((await runLoad(s.url)).out);
      expect(again).toMatchObject({ posted: 10_000, accepted: 0, duplicates: 10_000 });
      expect(stored(db).count).toBe(10_000);

      // The script only ever loads a local endpoint.
      const remote = await runLoad('http://example.com:8787');
      expect(remote.code).toBe(1);
      expect(remote.err).toMatch(/not a loopback/);
    } finally {
      await s.stop();
    }
  });

  it('flags same-side and sub-second voting and leaves those votes out of the ratings', async () => {
    const db = join(dir, 'flags.db');
    const s = await startServer(db, [...open.rate, '--bootstrap', '200']);
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
});

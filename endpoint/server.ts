// The vote endpoint's HTTP side: protocol v1 (see endpoint/README.md). node:http only, one process, one vote store
// (a SQLite file or a PostgreSQL database), the leaderboard fitted in a worker thread.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { MAX_BODY_BYTES, parseVoteBatch, UUID_PATTERN, VoteValidationError } from '../src/shared/votes';
import type { LeaderboardFitOptions } from './leaderboard';
import type { WorkerJob, WorkerReply, WorkerSetup } from './leaderboard-worker';
import { RateLimiter } from './rate-limit';
import { openStore, StoreUnavailableError, type VoteStore } from './store';

export const PROTOCOL_VERSION = 1;

export interface EndpointOptions {
  /** A SQLite file path, or a postgres:// URL. */
  db: string;
  /** When set, POST /v1/votes needs `Authorization: Bearer <token>`. */
  token?: string;
  /** When set, the moderation API (/v1/admin/…) answers to `Authorization: Bearer <adminToken>`; off otherwise. */
  adminToken?: string;
  /** Browser origins allowed by CORS; ["*"] allows any. Requests without an Origin header (non-browser) always pass. */
  origins: readonly string[];
  /** Per client address. */
  ratePerMinute: number;
  burst: number;
  /** Take the client address from X-Forwarded-For (only behind a proxy you run). */
  trustProxy: boolean;
  /** Bootstrap resamples of the leaderboard's intervals, and their seed. */
  bootstrap: number;
  seed: number;
  /** Resampled votes per leaderboard at most: big databases get fewer rounds (never under 100) to bound CPU time. */
  bootstrapBudget: number;
  sameSideMinVotes: number;
  minDecideMs: number;
  /** How long GET /v1/leaderboard waits for a refit after new votes before it answers with the previous fit. */
  leaderboardWaitMs: number;
  /** How long a fit is trusted without asking the store whether other processes stored votes since. */
  leaderboardRecheckMs: number;
  /** PostgreSQL connections of this process. */
  poolSize: number;
}

export const DEFAULT_ENDPOINT_OPTIONS: Omit<EndpointOptions, 'db'> = {
  origins: ['*'],
  ratePerMinute: 60,
  burst: 30,
  trustProxy: false,
  bootstrap: 1000,
  seed: 1,
  bootstrapBudget: 20_000_000,
  sameSideMinVotes: 20,
  minDecideMs: 1000,
  leaderboardWaitMs: 2000,
  leaderboardRecheckMs: 10_000,
  poolSize: 10,
};

/** A worker job before it gets its id. */
type JobInput = WorkerJob extends infer J ? (J extends unknown ? Omit<J, 'id'> : never) : never;

/**
 * The worker's entry: TypeScript like the rest of the endpoint, so it first registers tsx in its own thread (a
 * worker does not inherit the parent's `--import tsx` hooks).
 */
const WORKER_BOOTSTRAP = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./leaderboard-worker.ts', import.meta.url).href)}); })`;

/** Seconds a client is told to wait when the store is unavailable. */
const STORE_RETRY_AFTER_S = 2;
const MAX_REASON_CHARS = 500;
const MAX_MODERATOR_CHARS = 100;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: { field?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
  }
}

type BodyResult = { kind: 'body'; bytes: Buffer } | { kind: 'too_large' };

/** Reads at most `limit` bytes; past that it stops reading and the caller answers 413 and closes the connection. */
function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ kind: 'too_large' });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done = true;
        req.off('data', onData);
        req.pause();
        resolve({ kind: 'too_large' });
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => {
      done = true;
      resolve({ kind: 'body', bytes: Buffer.concat(chunks) });
    });
    req.on('error', (e) => {
      if (!done) reject(e);
    });
    req.on('close', () => {
      if (!done) reject(new Error('client went away before the body was complete'));
    });
  });
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

export interface VoteEndpoint {
  server: Server;
  store: VoteStore;
  close(): Promise<void>;
}

interface Fit {
  body: string;
  signature: string;
  generation: number;
  fittedAt: number;
  checkedAt: number;
  votes: number;
  dbMs: number;
  fitMs: number;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => {});
  return { promise, resolve, reject };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Opens the store and applies its migrations. A store that cannot be reached yet (PostgreSQL still starting) does
 * not stop the endpoint: it answers 503 and retries on the next request. Any other failure (a newer schema, a bad
 * file) is thrown.
 */
export async function createVoteEndpoint(options: EndpointOptions): Promise<VoteEndpoint> {
  const opts = { ...DEFAULT_ENDPOINT_OPTIONS, ...options };
  if (opts.adminToken && opts.adminToken === opts.token) throw new Error('the admin token must differ from the voting token');
  const store = await openStore(opts.db, { poolSize: opts.poolSize });
  let migrated: Promise<void> | null = null;
  const ready = (): Promise<void> =>
    (migrated ??= store.migrate().then(
      () => {},
      (e: unknown) => {
        migrated = null;
        throw e;
      },
    ));
  try {
    await ready();
  } catch (e) {
    if (!(e instanceof StoreUnavailableError)) {
      await store.close().catch(() => {});
      throw e;
    }
    logEvent({ event: 'store_unavailable', db: store.label, error: e.message });
  }

  const limiter = new RateLimiter(opts.ratePerMinute, opts.burst);
  const anyOrigin = opts.origins.includes('*');
  const tokenDigest = opts.token ? sha256(opts.token) : null;
  const adminDigest = opts.adminToken ? sha256(opts.adminToken) : null;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const fitOptions: LeaderboardFitOptions = {
    bootstrap: opts.bootstrap,
    seed: opts.seed,
    bootstrapBudget: opts.bootstrapBudget,
    sameSideMinVotes: opts.sameSideMinVotes,
    minDecideMs: opts.minDecideMs,
  };

  // ---- The worker thread that reads the tally and fits the leaderboard. ----
  let worker: Worker | null = null;
  let nextJobId = 1;
  const jobs = new Map<number, Deferred<WorkerReply>>();
  function failJobs(e: Error): void {
    for (const d of jobs.values()) d.reject(e);
    jobs.clear();
  }
  function runJob(job: JobInput): Promise<WorkerReply> {
    if (!worker) {
      const w = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: { db: opts.db } satisfies WorkerSetup });
      w.unref();
      w.on('message', (reply: WorkerReply) => {
        const d = jobs.get(reply.id);
        jobs.delete(reply.id);
        d?.resolve(reply);
      });
      w.on('error', (e) => {
        logEvent({ event: 'error', where: 'leaderboard worker', error: String(e.stack ?? e) });
        if (worker === w) worker = null;
        failJobs(e);
      });
      w.on('exit', (code) => {
        if (worker === w) worker = null;
        failJobs(new Error(`leaderboard worker exited with ${code}`));
      });
      worker = w;
    }
    const id = nextJobId++;
    const d = deferred<WorkerReply>();
    jobs.set(id, d);
    worker.postMessage({ ...job, id } as WorkerJob);
    return d.promise;
  }
  async function job<K extends WorkerReply & { ok: true }>(j: JobInput): Promise<K> {
    const reply = await runJob(j);
    if (!reply.ok) throw reply.unavailable ? new StoreUnavailableError(reply.error) : new Error(reply.error);
    return reply as K;
  }

  // Load the worker (and its connection) now, so the first leaderboard request does not pay for it.
  if (migrated) void runJob({ kind: 'warm' }).catch(() => {});

  // ---- The leaderboard cache. ----
  // `generation` counts this process's changes (accepted votes, moderation); the store's signature catches
  // changes made by other processes sharing the database, checked at most every leaderboardRecheckMs.
  let generation = 0;
  let cache: Fit | null = null;
  let running: { sampled: boolean; generation: number; promise: Promise<Fit> } | null = null;
  let queued: Deferred<Fit> | null = null;
  let lastFit = { endedAt: 0, ms: 0 };

  const isFresh = (c: Fit | null) => c !== null && c.generation === generation && Date.now() - c.checkedAt < opts.leaderboardRecheckMs;

  function requestFit(): Promise<Fit> {
    if (running && (!running.sampled || running.generation === generation)) return running.promise;
    if (queued) return queued.promise;
    const d = (queued = deferred<Fit>());
    pump();
    return d.promise;
  }

  function pump(): void {
    if (running || !queued) return;
    const d = queued;
    queued = null;
    const r = { sampled: false, generation: -1, promise: d.promise };
    running = r;
    void (async () => {
      try {
        // A big fit runs at most half the time, whatever the vote rate: it waits as long as the last one took.
        if (cache && lastFit.ms > 1000) await sleep(Math.max(0, lastFit.endedAt + lastFit.ms - Date.now()));
        r.sampled = true;
        r.generation = generation;
        const t0 = performance.now();
        const reply = await job<Extract<WorkerReply, { kind: 'fit'; ok: true }>>({ kind: 'fit', options: fitOptions, knownSignature: cache?.signature ?? null });
        const now = Date.now();
        if (reply.unchanged && cache) {
          cache = { ...cache, generation: r.generation, checkedAt: now };
        } else if (!reply.unchanged) {
          cache = { body: reply.body, signature: reply.signature, generation: r.generation, fittedAt: now, checkedAt: now, votes: reply.votes, dbMs: reply.dbMs, fitMs: reply.fitMs };
          lastFit = { endedAt: now, ms: performance.now() - t0 };
          logEvent({ event: 'leaderboard_fit', votes: reply.votes, dbMs: Math.round(reply.dbMs), fitMs: Math.round(reply.fitMs) });
        }
        d.resolve(cache!);
      } catch (e) {
        d.reject(e);
      } finally {
        running = null;
        pump();
      }
    })();
  }

  async function leaderboard(res: ServerResponse): Promise<string> {
    let fit = cache;
    let stale = false;
    if (!isFresh(fit)) {
      const pending = requestFit();
      const waited = await Promise.race([pending.then((f) => ({ f }), (e: unknown) => ({ e })), sleep(opts.leaderboardWaitMs).then(() => null)]);
      if (waited && 'f' in waited) {
        fit = waited.f;
      } else if (fit) {
        stale = true;
        if (waited) logEvent({ event: 'leaderboard_stale', error: String((waited.e as Error)?.message ?? waited.e) });
      } else if (waited) {
        throw waited.e;
      } else {
        const retry = Math.max(1, Math.ceil(lastFit.ms / 1000));
        throw new HttpError(503, 'leaderboard_pending', `the leaderboard is being computed; retry in ${retry} s`, { headers: { 'Retry-After': String(retry) } });
      }
    }
    res.setHeader('X-Leaderboard-Stale', String(stale));
    res.setHeader('X-Leaderboard-Fitted-At', new Date(fit!.fittedAt).toISOString());
    res.setHeader('Server-Timing', `db;dur=${fit!.dbMs.toFixed(1)}, fit;dur=${fit!.fitMs.toFixed(1)}`);
    return fit!.body;
  }

  // Health is not rate-limited, and COUNT(*) of a million SQLite rows blocks the thread for tens of ms: count at
  // most once a second, adding this process's accepted votes in between.
  let counted: { value: number; at: number } | null = null;
  async function storedVotes(): Promise<number> {
    if (counted && Date.now() - counted.at < 1000) return counted.value;
    const at = Date.now();
    const value = await store.count();
    counted = { value, at };
    return value;
  }

  const clientAddress = (req: IncomingMessage) => {
    const forwarded = opts.trustProxy ? String(req.headers['x-forwarded-for'] ?? '').split(',')[0].trim() : '';
    return forwarded || req.socket.remoteAddress || 'unknown';
  };

  function checkBearer(req: IncomingMessage, digest: Buffer, what: string): void {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new HttpError(401, 'unauthorized', `missing bearer token: send "Authorization: Bearer <${what}>"`, { headers: { 'WWW-Authenticate': 'Bearer' } });
    if (!timingSafeEqual(sha256(match[1]), digest)) {
      throw new HttpError(401, 'unauthorized', `wrong bearer token (this route needs the ${what})`, { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
    }
  }

  async function readJson(req: IncomingMessage): Promise<unknown> {
    const type = String(req.headers['content-type'] ?? '');
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      throw new HttpError(415, 'unsupported_media_type', `expected Content-Type: application/json, got ${JSON.stringify(type || 'none')}`);
    }
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body.kind === 'too_large') {
      throw new HttpError(413, 'too_large', `body over ${MAX_BODY_BYTES} bytes: send smaller batches`);
    }
    try {
      return JSON.parse(utf8.decode(body.bytes));
    } catch (e) {
      throw new HttpError(400, 'bad_json', `body is not valid UTF-8 JSON: ${(e as Error).message}`);
    }
  }

  async function postVotes(req: IncomingMessage): Promise<{ accepted: number; duplicates: number }> {
    if (tokenDigest) checkBearer(req, tokenDigest, 'voting token');
    const json = await readJson(req);
    let votes;
    try {
      votes = parseVoteBatch(json);
    } catch (e) {
      if (e instanceof VoteValidationError) throw new HttpError(400, 'invalid_vote', e.message, { field: e.field });
      throw e;
    }
    await ready();
    const result = await store.insert(votes);
    if (result.accepted > 0) {
      generation++;
      if (counted) counted.value += result.accepted;
    }
    return result;
  }

  // ---- Moderation: its own token, every change logged (in the store and on stdout). ----
  function checkAdmin(req: IncomingMessage): void {
    if (!adminDigest) throw new HttpError(403, 'admin_disabled', 'the moderation API is off: start the endpoint with VOTES_ADMIN_TOKEN (or --admin-token)');
    checkBearer(req, adminDigest, 'admin token');
  }

  async function moderate(req: IncomingMessage, action: 'exclude' | 'restore'): Promise<unknown> {
    const json = (await readJson(req)) as Record<string, unknown> | null;
    const field = (name: string, message: string): never => {
      throw new HttpError(400, 'invalid_request', message, { field: name });
    };
    if (typeof json !== 'object' || json === null) field('', 'expected a JSON object {"client", "reason", "moderator"?}');
    const { client, reason, moderator = 'admin' } = json!;
    if (typeof client !== 'string' || !UUID_PATTERN.test(client)) field('client', 'client must be a lowercase UUID');
    if (typeof reason !== 'string' || !reason.trim() || reason.length > MAX_REASON_CHARS) field('reason', `reason must be a non-empty string of at most ${MAX_REASON_CHARS} characters`);
    if (typeof moderator !== 'string' || !moderator.trim() || moderator.length > MAX_MODERATOR_CHARS) field('moderator', `moderator must be a non-empty string of at most ${MAX_MODERATOR_CHARS} characters`);
    await ready();
    const c = client as string;
    const result = action === 'exclude' ? await store.exclude(c, (reason as string).trim(), (moderator as string).trim()) : await store.restore(c, (reason as string).trim(), (moderator as string).trim());
    if (result.changed) {
      generation++;
      logEvent({ event: 'moderation', ...result.entry });
    }
    return { client: c, excluded: action === 'exclude', changed: result.changed, votes: result.votes, ...(result.entry ? { entry: result.entry } : {}) };
  }

  async function adminFlags(): Promise<unknown> {
    await ready();
    const [reply, excluded] = await Promise.all([job<Extract<WorkerReply, { kind: 'flags'; ok: true }>>({ kind: 'flags', options: fitOptions }), store.excludedClients()]);
    return { flags: reply.flags, excluded };
  }

  async function adminLog(req: IncomingMessage): Promise<unknown> {
    const raw = new URL(req.url ?? '/', 'http://endpoint').searchParams.get('limit');
    const limit = raw === null ? 100 : Number(raw);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) throw new HttpError(400, 'invalid_request', 'limit must be an integer from 1 to 10000', { field: 'limit' });
    await ready();
    return { entries: await store.moderationLog(limit) };
  }

  const ROUTES: Record<string, readonly string[]> = {
    '/v1/votes': ['POST'],
    '/v1/leaderboard': ['GET'],
    '/v1/health': ['GET'],
    '/v1/admin/flags': ['GET'],
    '/v1/admin/log': ['GET'],
    '/v1/admin/exclude': ['POST'],
    '/v1/admin/restore': ['POST'],
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<{ status: number; body: unknown }> {
    const path = new URL(req.url ?? '/', 'http://endpoint').pathname;
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!anyOrigin && !opts.origins.includes(origin)) throw new HttpError(403, 'forbidden_origin', `origin ${origin} is not allowed`);
      res.setHeader('Access-Control-Allow-Origin', anyOrigin ? '*' : origin);
      if (!anyOrigin) res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Expose-Headers', 'Retry-After, X-Leaderboard-Stale, X-Leaderboard-Fitted-At');
    }
    const methods = ROUTES[path];
    if (!methods) throw new HttpError(404, 'not_found', `no route ${path}; the protocol has ${Object.keys(ROUTES).join(', ')}`);
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', [...methods, 'OPTIONS'].join(', '));
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization');
      res.setHeader('Access-Control-Max-Age', '86400');
      return { status: 204, body: null };
    }
    if (!methods.includes(req.method ?? '')) {
      throw new HttpError(405, 'method_not_allowed', `${req.method} ${path} is not allowed; use ${methods.join(', ')}`, { headers: { Allow: methods.join(', ') } });
    }
    if (path === '/v1/health') {
      try {
        await ready();
        return { status: 200, body: { ok: true, protocol: PROTOCOL_VERSION, votes: await storedVotes() } };
      } catch (e) {
        if (!(e instanceof StoreUnavailableError)) throw e;
        res.setHeader('Retry-After', String(STORE_RETRY_AFTER_S));
        return { status: 503, body: { ok: false, protocol: PROTOCOL_VERSION, error: e.message, code: 'store_unavailable' } };
      }
    }
    const wait = limiter.take(clientAddress(req));
    if (wait > 0) throw new HttpError(429, 'rate_limited', `too many requests; retry in ${wait} s`, { headers: { 'Retry-After': String(wait) } });
    if (path === '/v1/votes') return { status: 200, body: await postVotes(req) };
    if (path === '/v1/leaderboard') return { status: 200, body: await leaderboard(res) };
    checkAdmin(req);
    if (path === '/v1/admin/flags') return { status: 200, body: await adminFlags() };
    if (path === '/v1/admin/log') return { status: 200, body: await adminLog(req) };
    return { status: 200, body: await moderate(req, path === '/v1/admin/exclude' ? 'exclude' : 'restore') };
  }

  let lastUnavailableLog = 0;
  const server = createServer((req, res) => {
    route(req, res)
      .then(({ status, body }) => send(req, res, status, body))
      .catch((e: unknown) => {
        if (e instanceof StoreUnavailableError) {
          if (Date.now() - lastUnavailableLog > 1000) {
            lastUnavailableLog = Date.now();
            logEvent({ event: 'store_unavailable', db: store.label, error: e.message });
          }
          e = new HttpError(503, 'store_unavailable', `vote store unavailable, nothing was stored; retry later (${e.message})`, { headers: { 'Retry-After': String(STORE_RETRY_AFTER_S) } });
        }
        if (e instanceof HttpError) {
          for (const [k, v] of Object.entries(e.extra.headers ?? {})) res.setHeader(k, v);
          send(req, res, e.status, { error: e.message, code: e.code, ...(e.extra.field !== undefined ? { field: e.extra.field } : {}) });
        } else if (req.destroyed) {
          // The client left mid-request: nobody to answer.
        } else {
          logEvent({ event: 'error', url: req.url, error: String((e as Error)?.stack ?? e) });
          send(req, res, 500, { error: 'internal error; retry later', code: 'internal' });
        }
      });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  return {
    server,
    store,
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          const w = worker;
          worker = null;
          void Promise.allSettled([w?.terminate(), store.close()]).then(() => resolve());
        });
        server.closeIdleConnections();
      }),
  };
}

function logEvent(e: Record<string, unknown>): void {
  const line = JSON.stringify(e);
  if (e.event === 'error' || e.event === 'store_unavailable' || e.event === 'leaderboard_stale') console.error(line);
  else console.log(line);
}

/** After an early answer, this much more of an unread body is discarded (so the client can read the answer), then the connection is cut. */
const DISCARD_LIMIT_BYTES = 1024 * 1024;
const DISCARD_LIMIT_MS = 2000;

function send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  res.setHeader('Cache-Control', 'no-store');
  if (!req.complete) {
    // Node discards the rest of an unread body to keep the connection alive; bound that, then cut it. Cutting at
    // once would reset the connection before many clients have read the answer.
    res.on('finish', () => {
      let discarded = 0;
      const cut = () => req.socket.destroy();
      const timer = setTimeout(cut, DISCARD_LIMIT_MS);
      timer.unref();
      req.on('data', (chunk: Buffer) => {
        discarded += chunk.length;
        if (discarded > DISCARD_LIMIT_BYTES) {
          clearTimeout(timer);
          cut();
        }
      });
      req.on('end', () => clearTimeout(timer));
      req.resume();
    });
  }
  if (body === null) {
    res.writeHead(status).end();
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) }).end(text);
}

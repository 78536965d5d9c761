// The vote endpoint's HTTP side: protocol v1 (see endpoint/README.md). node:http only, one process, one SQLite file.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { MAX_BODY_BYTES, parseVoteBatch, VoteValidationError } from '../src/shared/votes';
import { leaderboardFromVotes } from '../src/rating/gaming-flags';
import { RateLimiter } from './rate-limit';
import { VoteStore } from './store';

export const PROTOCOL_VERSION = 1;

export interface EndpointOptions {
  db: string;
  /** When set, POST /v1/votes needs `Authorization: Bearer <token>`. */
  token?: string;
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
};

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

export function createVoteEndpoint(options: EndpointOptions): VoteEndpoint {
  const opts = { ...DEFAULT_ENDPOINT_OPTIONS, ...options };
  const store = new VoteStore(opts.db);
  const limiter = new RateLimiter(opts.ratePerMinute, opts.burst);
  const anyOrigin = opts.origins.includes('*');
  const tokenDigest = opts.token ? sha256(opts.token) : null;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let generation = 0;
  let cached: { generation: number; body: string } | null = null;

  const clientAddress = (req: IncomingMessage) => {
    const forwarded = opts.trustProxy ? String(req.headers['x-forwarded-for'] ?? '').split(',')[0].trim() : '';
    return forwarded || req.socket.remoteAddress || 'unknown';
  };

  function leaderboardBody(): string {
    if (cached?.generation === generation) return cached.body;
    const at = generation;
    const votes = store.summaries();
    const rounds = Math.min(opts.bootstrap, Math.max(100, Math.floor(opts.bootstrapBudget / Math.max(1, votes.length))));
    const lb = leaderboardFromVotes(votes, {
      bootstrap: rounds,
      seed: opts.seed,
      sameSideMinVotes: opts.sameSideMinVotes,
      minDecideMs: opts.minDecideMs,
    });
    const body = JSON.stringify({ ...lb, bootstrap: { rounds, seed: opts.seed } });
    cached = { generation: at, body };
    return body;
  }

  function checkToken(req: IncomingMessage): void {
    if (!tokenDigest) return;
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new HttpError(401, 'unauthorized', 'missing bearer token: send "Authorization: Bearer <token>"', { headers: { 'WWW-Authenticate': 'Bearer' } });
    if (!timingSafeEqual(sha256(match[1]), tokenDigest)) {
      throw new HttpError(401, 'unauthorized', 'wrong bearer token', { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
    }
  }

  async function postVotes(req: IncomingMessage): Promise<{ accepted: number; duplicates: number }> {
    checkToken(req);
    const type = String(req.headers['content-type'] ?? '');
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      throw new HttpError(415, 'unsupported_media_type', `expected Content-Type: application/json, got ${JSON.stringify(type || 'none')}`);
    }
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body.kind === 'too_large') {
      throw new HttpError(413, 'too_large', `body over ${MAX_BODY_BYTES} bytes: send smaller batches`);
    }
    let json: unknown;
    try {
      json = JSON.parse(utf8.decode(body.bytes));
    } catch (e) {
      throw new HttpError(400, 'bad_json', `body is not valid UTF-8 JSON: ${(e as Error).message}`);
    }
    let votes;
    try {
      votes = parseVoteBatch(json);
    } catch (e) {
      if (e instanceof VoteValidationError) throw new HttpError(400, 'invalid_vote', e.message, { field: e.field });
      throw e;
    }
    const result = store.insert(votes);
    if (result.accepted > 0) generation++;
    return result;
  }

  const ROUTES: Record<string, readonly string[]> = {
    '/v1/votes': ['POST'],
    '/v1/leaderboard': ['GET'],
    '/v1/health': ['GET'],
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<{ status: number; body: unknown }> {
    const path = new URL(req.url ?? '/', 'http://endpoint').pathname;
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!anyOrigin && !opts.origins.includes(origin)) throw new HttpError(403, 'forbidden_origin', `origin ${origin} is not allowed`);
      res.setHeader('Access-Control-Allow-Origin', anyOrigin ? '*' : origin);
      if (!anyOrigin) res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
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
    if (path === '/v1/health') return { status: 200, body: { ok: true, protocol: PROTOCOL_VERSION, votes: store.count() } };
    const wait = limiter.take(clientAddress(req));
    if (wait > 0) throw new HttpError(429, 'rate_limited', `too many requests; retry in ${wait} s`, { headers: { 'Retry-After': String(wait) } });
    if (path === '/v1/votes') return { status: 200, body: await postVotes(req) };
    return { status: 200, body: leaderboardBody() };
  }

  const server = createServer((req, res) => {
    route(req, res)
      .then(({ status, body }) => send(req, res, status, body))
      .catch((e: unknown) => {
        if (e instanceof HttpError) {
          for (const [k, v] of Object.entries(e.extra.headers ?? {})) res.setHeader(k, v);
          send(req, res, e.status, { error: e.message, code: e.code, ...(e.extra.field !== undefined ? { field: e.extra.field } : {}) });
        } else if (req.destroyed) {
          // The client left mid-request: nobody to answer.
        } else {
          console.error(JSON.stringify({ event: 'error', url: req.url, error: String((e as Error)?.stack ?? e) }));
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
          store.close();
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
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

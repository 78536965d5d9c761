// `npm run endpoint -- --port N --db FILE|postgres://…`: starts the vote endpoint and prints one JSON line once it listens.
import { parseArgs } from 'node:util';
import { createVoteEndpoint, DEFAULT_ENDPOINT_OPTIONS } from './server';
import { redactUrl } from './store';

const USAGE = `Usage: npm run endpoint -- --port N --db FILE|URL [options]
  --port N              port to listen on; 0 picks a free one (env PORT, default 8787)
  --host ADDR           address to bind (env VOTES_HOST, default 127.0.0.1; 0.0.0.0 for all interfaces)
  --db FILE|URL         SQLite file, created if missing, or a postgres://user:pass@host:port/db URL
                        (env VOTES_DB, default votes.db)
  --token T             require "Authorization: Bearer T" on POST /v1/votes (env VOTES_TOKEN; prefer the env)
  --admin-token T       turn on the moderation API (/v1/admin/…) for "Authorization: Bearer T"; must differ
                        from --token (env VOTES_ADMIN_TOKEN; prefer the env)
  --origin O[,O…]       browser origins allowed by CORS, or * (env VOTES_ORIGIN, default *)
  --rate N              requests per minute per client address (default ${DEFAULT_ENDPOINT_OPTIONS.ratePerMinute})
  --burst N             requests a client may make at once (default ${DEFAULT_ENDPOINT_OPTIONS.burst})
  --trust-proxy         take the client address from X-Forwarded-For
  --bootstrap N         leaderboard bootstrap resamples (default ${DEFAULT_ENDPOINT_OPTIONS.bootstrap})
  --seed N              bootstrap seed (default ${DEFAULT_ENDPOINT_OPTIONS.seed})
  --same-side-min N     flag a client whose N or more votes all pick the same side (default ${DEFAULT_ENDPOINT_OPTIONS.sameSideMinVotes})
  --min-decide-ms N     flag votes cast faster than this after unlocking (default ${DEFAULT_ENDPOINT_OPTIONS.minDecideMs})
  --leaderboard-wait-ms N   how long GET /v1/leaderboard waits for a refit after new votes before it answers with
                        the previous fit (default ${DEFAULT_ENDPOINT_OPTIONS.leaderboardWaitMs})
  --leaderboard-recheck-ms N  how long a fit is trusted before asking the store whether other endpoint processes
                        stored votes (default ${DEFAULT_ENDPOINT_OPTIONS.leaderboardRecheckMs})
  --pool N              PostgreSQL connections (default ${DEFAULT_ENDPOINT_OPTIONS.poolSize})`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function intOption(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) fail(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

let args;
try {
  args = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      db: { type: 'string' },
      token: { type: 'string' },
      'admin-token': { type: 'string' },
      origin: { type: 'string' },
      rate: { type: 'string' },
      burst: { type: 'string' },
      'trust-proxy': { type: 'boolean' },
      bootstrap: { type: 'string' },
      seed: { type: 'string' },
      'same-side-min': { type: 'string' },
      'min-decide-ms': { type: 'string' },
      'leaderboard-wait-ms': { type: 'string' },
      'leaderboard-recheck-ms': { type: 'string' },
      pool: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
} catch (e) {
  fail((e as Error).message);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

const env = process.env;
const port = intOption('port', args.port ?? env.PORT, 8787, 0);
if (port > 65535) fail(`--port must be at most 65535, got ${port}`);
const host = args.host ?? env.VOTES_HOST ?? '127.0.0.1';
const db = args.db ?? env.VOTES_DB ?? 'votes.db';
const token = args.token ?? env.VOTES_TOKEN ?? undefined;
const adminToken = args['admin-token'] ?? env.VOTES_ADMIN_TOKEN ?? undefined;
if (adminToken && adminToken === token) fail('the admin token must differ from the voting token: a voter must never be able to moderate');
const origins = (args.origin ?? env.VOTES_ORIGIN ?? '*')
  .split(',')
  .map((o) => o.trim().replace(/\/$/, ''))
  .filter(Boolean);

let endpoint;
try {
  endpoint = await createVoteEndpoint({
    db,
    token: token || undefined,
    adminToken: adminToken || undefined,
    origins,
    ratePerMinute: intOption('rate', args.rate, DEFAULT_ENDPOINT_OPTIONS.ratePerMinute, 1),
    burst: intOption('burst', args.burst, DEFAULT_ENDPOINT_OPTIONS.burst, 1),
    trustProxy: args['trust-proxy'] ?? false,
    bootstrap: intOption('bootstrap', args.bootstrap, DEFAULT_ENDPOINT_OPTIONS.bootstrap, 0),
    seed: intOption('seed', args.seed, DEFAULT_ENDPOINT_OPTIONS.seed, 0),
    bootstrapBudget: DEFAULT_ENDPOINT_OPTIONS.bootstrapBudget,
    sameSideMinVotes: intOption('same-side-min', args['same-side-min'], DEFAULT_ENDPOINT_OPTIONS.sameSideMinVotes, 1),
    minDecideMs: intOption('min-decide-ms', args['min-decide-ms'], DEFAULT_ENDPOINT_OPTIONS.minDecideMs, 0),
    leaderboardWaitMs: intOption('leaderboard-wait-ms', args['leaderboard-wait-ms'], DEFAULT_ENDPOINT_OPTIONS.leaderboardWaitMs, 0),
    leaderboardRecheckMs: intOption('leaderboard-recheck-ms', args['leaderboard-recheck-ms'], DEFAULT_ENDPOINT_OPTIONS.leaderboardRecheckMs, 0),
    poolSize: intOption('pool', args.pool, DEFAULT_ENDPOINT_OPTIONS.poolSize, 1),
  });
} catch (e) {
  console.error(`Cannot open the vote database ${redactUrl(db)}: ${(e as Error).message}`);
  process.exit(1);
}
const { server, close } = endpoint;

server.on('error', (e: Error) => {
  console.error(`Cannot listen on ${host}:${port}: ${e.message}`);
  process.exit(1);
});
server.listen(port, host, () => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  console.log(
    JSON.stringify({ event: 'listening', url: `http://${shownHost}:${actual}`, db: redactUrl(db), store: endpoint.store.dialect, origins, token: Boolean(token), admin: Boolean(adminToken) }),
  );
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void close().then(() => process.exit(0));
  });
}

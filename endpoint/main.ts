// `npm run endpoint -- --port N --db FILE`: starts the vote endpoint and prints one JSON line once it listens.
import { parseArgs } from 'node:util';
import { createVoteEndpoint, DEFAULT_ENDPOINT_OPTIONS } from './server';

const USAGE = `Usage: npm run endpoint -- --port N --db FILE [options]
  --port N              port to listen on; 0 picks a free one (env PORT, default 8787)
  --host ADDR           address to bind (env VOTES_HOST, default 127.0.0.1; 0.0.0.0 for all interfaces)
  --db FILE             SQLite file, created if missing (env VOTES_DB, default votes.db)
  --token T             require "Authorization: Bearer T" on POST /v1/votes (env VOTES_TOKEN; prefer the env)
  --origin O[,O…]       browser origins allowed by CORS, or * (env VOTES_ORIGIN, default *)
  --rate N              requests per minute per client address (default ${DEFAULT_ENDPOINT_OPTIONS.ratePerMinute})
  --burst N             requests a client may make at once (default ${DEFAULT_ENDPOINT_OPTIONS.burst})
  --trust-proxy         take the client address from X-Forwarded-For
  --bootstrap N         leaderboard bootstrap resamples (default ${DEFAULT_ENDPOINT_OPTIONS.bootstrap})
  --seed N              bootstrap seed (default ${DEFAULT_ENDPOINT_OPTIONS.seed})
  --same-side-min N     flag a client whose N or more votes all pick the same side (default ${DEFAULT_ENDPOINT_OPTIONS.sameSideMinVotes})
  --min-decide-ms N     flag votes cast faster than this after unlocking (default ${DEFAULT_ENDPOINT_OPTIONS.minDecideMs})`;

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
      origin: { type: 'string' },
      rate: { type: 'string' },
      burst: { type: 'string' },
      'trust-proxy': { type: 'boolean' },
      bootstrap: { type: 'string' },
      seed: { type: 'string' },
      'same-side-min': { type: 'string' },
      'min-decide-ms': { type: 'string' },
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
const origins = (args.origin ?? env.VOTES_ORIGIN ?? '*')
  .split(',')
  .map((o) => o.trim().replace(/\/$/, ''))
  .filter(Boolean);

let endpoint;
try {
  endpoint = createVoteEndpoint({
    db,
    token: token || undefined,
    origins,
    ratePerMinute: intOption('rate', args.rate, DEFAULT_ENDPOINT_OPTIONS.ratePerMinute, 1),
    burst: intOption('burst', args.burst, DEFAULT_ENDPOINT_OPTIONS.burst, 1),
    trustProxy: args['trust-proxy'] ?? false,
    bootstrap: intOption('bootstrap', args.bootstrap, DEFAULT_ENDPOINT_OPTIONS.bootstrap, 0),
    seed: intOption('seed', args.seed, DEFAULT_ENDPOINT_OPTIONS.seed, 0),
    bootstrapBudget: DEFAULT_ENDPOINT_OPTIONS.bootstrapBudget,
    sameSideMinVotes: intOption('same-side-min', args['same-side-min'], DEFAULT_ENDPOINT_OPTIONS.sameSideMinVotes, 1),
    minDecideMs: intOption('min-decide-ms', args['min-decide-ms'], DEFAULT_ENDPOINT_OPTIONS.minDecideMs, 0),
  });
} catch (e) {
  console.error(`Cannot open the vote database ${db}: ${(e as Error).message}`);
  process.exit(1);
}
const { server, close } = endpoint;

server.on('error', (e) => {
  console.error(`Cannot listen on ${host}:${port}: ${e.message}`);
  process.exit(1);
});
server.listen(port, host, () => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  console.log(JSON.stringify({ event: 'listening', url: `http://${shownHost}:${actual}`, db, origins, token: Boolean(token) }));
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void close().then(() => process.exit(0));
  });
}

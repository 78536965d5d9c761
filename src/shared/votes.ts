// Tournament votes: one schema for the app (IndexedDB, export/import, sync) and the vote endpoint.
import * as v from 'valibot';

export type Winner = 'a' | 'b' | 'tie' | 'both_bad';
export const WINNERS: readonly Winner[] = ['a', 'b', 'tie', 'both_bad'];

/** One blind A/B judgement. Side "A" is whichever model played as A, so the side assignment is recorded by position. */
export interface Vote {
  id: string;
  a: string;
  aVersion: string;
  b: string;
  bVersion: string;
  winner: Winner;
  client: string;
  ts: number;
  session: string;
  listenMs: { a: number; b: number };
  decideMs: number;
}

/**
 * Model ids are checked for form only, never against a list, so new and evolved models need no endpoint redeploy.
 * Lowercase letters, digits, ".", "_" and "-", starting with a letter or digit, at most 64 characters.
 */
export const MODEL_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Versions such as "1.0.0", "2024-05-01" or "1.2.0+int8". */
export const MODEL_VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$/;
/** Lowercase, as crypto.randomUUID() writes it: ids compare as strings, so "A…" and "a…" must not both exist. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Lowercase hex SHA-256 of the session's audio: identifies the material without containing it. */
export const SESSION_FINGERPRINT_PATTERN = /^[0-9a-f]{64}$/;

export const MAX_BATCH_VOTES = 500;
/** A full batch of 500 votes is about 200 KiB of JSON; the limit leaves room for longer ids. */
export const MAX_BODY_BYTES = 512 * 1024;
/** Listening and decision times above a day are clock errors, not listening. */
export const MAX_DURATION_MS = 86_400_000;
/** 2000-01-01 to 2100-01-01: a timestamp outside is a broken clock or a unit error (seconds for ms). */
const MIN_TS = 946_684_800_000;
const MAX_TS = 4_102_444_800_000;

const modelId = v.pipe(
  v.string('expected a model id string'),
  v.regex(MODEL_ID_PATTERN, (issue) => `ill-formed model id ${JSON.stringify(issue.input)}: expected 1–64 of a-z 0-9 . _ - starting with a letter or digit`),
);
const modelVersion = v.pipe(
  v.string('expected a version string'),
  v.regex(MODEL_VERSION_PATTERN, (issue) => `ill-formed version ${JSON.stringify(issue.input)}: expected 1–64 of A-Z a-z 0-9 . + _ -`),
);
const uuid = v.pipe(
  v.string('expected a UUID string'),
  v.regex(UUID_PATTERN, (issue) => `expected a lowercase UUID, got ${JSON.stringify(issue.input)}`),
);
const duration = v.pipe(
  v.number('expected a number of milliseconds'),
  v.finite('expected a finite number of milliseconds'),
  v.minValue(0, 'expected a non-negative number of milliseconds'),
  v.maxValue(MAX_DURATION_MS, `expected at most ${MAX_DURATION_MS} ms`),
);

export const VoteSchema = v.pipe(
  v.object(
    {
      id: uuid,
      a: modelId,
      aVersion: modelVersion,
      b: modelId,
      bVersion: modelVersion,
      winner: v.picklist(WINNERS, (issue) => `expected one of "a", "b", "tie", "both_bad", got ${JSON.stringify(issue.input)}`),
      client: uuid,
      ts: v.pipe(
        v.number('expected a timestamp in ms since the epoch'),
        v.safeInteger('expected an integer timestamp in ms since the epoch'),
        v.minValue(MIN_TS, 'timestamp before 2000: expected ms since the epoch, not seconds'),
        v.maxValue(MAX_TS, 'timestamp after 2100'),
      ),
      session: v.pipe(
        v.string('expected a session fingerprint string'),
        v.regex(SESSION_FINGERPRINT_PATTERN, 'expected the session fingerprint as 64 lowercase hex digits (SHA-256)'),
      ),
      listenMs: v.object({ a: duration, b: duration }, 'expected {"a": ms, "b": ms}'),
      decideMs: duration,
    },
    'expected a vote object',
  ),
  v.forward(
    v.partialCheck(
      [['a'], ['b']],
      (x) => x.a !== x.b,
      (issue) => `a model cannot be compared with itself (${JSON.stringify((issue.input as { b?: unknown }).b)} on both sides)`,
    ),
    ['b'],
  ),
);

export const VoteBatchSchema = v.object(
  {
    votes: v.pipe(
      v.array(VoteSchema, 'expected "votes" to be an array'),
      v.minLength(1, 'expected at least one vote'),
      v.maxLength(MAX_BATCH_VOTES, `expected at most ${MAX_BATCH_VOTES} votes per batch`),
    ),
  },
  'expected a JSON object {"votes": [...]}',
);

/** A rejected vote or batch: `field` is the dot path of the first bad field, e.g. "votes.3.listenMs.a". */
export class VoteValidationError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(field ? `${field}: ${reason}` : reason);
    this.name = 'VoteValidationError';
  }
}

function parseWith<T>(schema: v.GenericSchema<unknown, T>, x: unknown, root: string): T {
  const result = v.safeParse(schema, x, { abortEarly: true });
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = v.getDotPath(issue);
  const reason = issue.input === undefined && path ? 'required field is missing' : issue.message;
  throw new VoteValidationError([root, path].filter(Boolean).join('.'), reason);
}

/** Validates one vote; unknown fields are dropped so newer clients can add some. Throws VoteValidationError. */
export function parseVote(x: unknown): Vote {
  return parseWith(VoteSchema, x, '');
}

/** Validates `{"votes": [...]}` with 1..MAX_BATCH_VOTES votes. Throws VoteValidationError naming e.g. "votes.2.a". */
export function parseVoteBatch(x: unknown): Vote[] {
  return parseWith(VoteBatchSchema, x, '').votes;
}

export function isModelId(x: unknown): x is string {
  return typeof x === 'string' && MODEL_ID_PATTERN.test(x);
}

// ---- The leaderboard the endpoint serves (GET /v1/leaderboard), so the app can validate what it fetches. ----

export interface ModelRating {
  id: string;
  /** Elo-like: 1000 + 400·log10(strength), centred so the mean over the listed models is 1000. */
  rating: number;
  /** 95% bootstrap interval of `rating`. */
  ci: [number, number];
  wins: number;
  losses: number;
  /** Ties, both_bad included. */
  ties: number;
  /** The both_bad part of `ties`. */
  bothBad: number;
  votes: number;
}

export interface PositionBias {
  aWins: number;
  bWins: number;
  /** Votes with a winner (neither tie nor both_bad). */
  decided: number;
  /** aWins / decided; 0.5 when nothing is decided. */
  aWinRate: number;
  /** 95% Wilson interval of aWinRate. */
  ci: [number, number];
}

export type GamingFlagKind = 'same_side' | 'sub_second';

export interface GamingFlag {
  kind: GamingFlagKind;
  client: string;
  /** The client's votes this flag covers (all of them for same_side, the fast ones for sub_second). */
  votes: number;
  /** For same_side: the side the client always picked. */
  side?: 'a' | 'b';
}

export interface LeaderboardResponse {
  models: ModelRating[];
  positionBias: PositionBias;
  flags: GamingFlag[];
  /** Votes stored, and the flagged ones left out of models/positionBias. */
  totalVotes: number;
  excludedVotes: number;
  /** How the intervals were resampled, so anyone can reproduce them from the same votes. */
  bootstrap?: { rounds: number; seed: number };
}

const count = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
const interval = v.tuple([v.number(), v.number()]);

export const LeaderboardResponseSchema = v.object({
  models: v.array(
    v.object({
      id: modelId,
      rating: v.number(),
      ci: interval,
      wins: count,
      losses: count,
      ties: count,
      bothBad: v.optional(count, 0),
      votes: count,
    }),
  ),
  positionBias: v.optional(
    v.object({ aWins: count, bWins: count, decided: count, aWinRate: v.number(), ci: v.optional(interval, [0, 1]) }),
    { aWins: 0, bWins: 0, decided: 0, aWinRate: 0.5, ci: [0, 1] },
  ),
  flags: v.optional(
    v.array(
      v.object({ kind: v.picklist(['same_side', 'sub_second']), client: v.string(), votes: count, side: v.optional(v.picklist(['a', 'b'])) }),
    ),
    [],
  ),
  totalVotes: v.optional(count, 0),
  excludedVotes: v.optional(count, 0),
  bootstrap: v.optional(v.object({ rounds: count, seed: v.number() })),
});

/** Validates a leaderboard fetched from any compatible endpoint; fields beyond the protocol's minimum get defaults. */
export function parseLeaderboardResponse(x: unknown): LeaderboardResponse {
  return parseWith(LeaderboardResponseSchema, x, '') as LeaderboardResponse;
}

import { describe, expect, it } from 'vitest';
import {
  MAX_BATCH_VOTES,
  MAX_BODY_BYTES,
  MODEL_ID_PATTERN,
  isModelId,
  parseLeaderboardResponse,
  parseVote,
  parseVoteBatch,
  VoteValidationError,
  type Vote,
} from '../../src/shared/votes';

const vote = (over: Record<string, unknown> = {}): Vote =>
  ({
    id: crypto.randomUUID(),
    a: 'equal-loudness',
    aVersion: '1.0.0',
    b: 'mix-unet-int8',
    bVersion: '0.3.1+int8',
    winner: 'a',
    client: '3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60',
    ts: Date.UTC(2026, 4, 1),
    session: 'ab'.repeat(32),
    listenMs: { a: 5200, b: 6100.5 },
    decideMs: 1800,
    ...over,
  }) as Vote;

function rejection(f: () => unknown): VoteValidationError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(VoteValidationError);
    return e as VoteValidationError;
  }
  throw new Error('expected a VoteValidationError, but the input was accepted');
}

describe('parseVote', () => {
  it('accepts a well-formed vote unchanged, also after a JSON round trip', () => {
    const v = vote();
    expect(parseVote(v)).toEqual(v);
    expect(parseVote(JSON.parse(JSON.stringify(v)))).toEqual(v);
    for (const winner of ['a', 'b', 'tie', 'both_bad']) expect(parseVote(vote({ winner })).winner).toBe(winner);
  });

  it('drops fields it does not know, so newer clients can add some', () => {
    const parsed = parseVote({ ...vote(), extra: 'x', note: { deep: 1 } });
    expect(parsed).not.toHaveProperty('extra');
    expect(Object.keys(parsed).sort()).toEqual(['a', 'aVersion', 'b', 'bVersion', 'client', 'decideMs', 'id', 'listenMs', 'session', 'ts', 'winner']);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['id', { id: 'not-a-uuid' }, /UUID/],
    ['id', { id: '3F1C2A9E-8B7D-4C6E-9F0A-1B2C3D4E5F60' }, /lowercase UUID/],
    ['id', { id: undefined }, /missing/],
    ['a', { a: 'Equal Loudness' }, /ill-formed model id/],
    ['a', { a: 42 }, /model id/],
    ['b', { b: 'equal-loudness' }, /compared with itself/],
    ['aVersion', { aVersion: '' }, /version/],
    ['bVersion', { bVersion: 'v 2' }, /version/],
    ['winner', { winner: 'c' }, /"both_bad"/],
    ['winner', { winner: null }, /expected one of/],
    ['client', { client: 'me' }, /UUID/],
    ['ts', { ts: '2026-05-01' }, /timestamp/],
    ['ts', { ts: 1_777_000_000 }, /not seconds/],
    ['ts', { ts: 1.5e12 + 0.5 }, /integer/],
    ['session', { session: 'ab'.repeat(31) }, /64 lowercase hex/],
    ['session', { session: 'AB'.repeat(32) }, /64 lowercase hex/],
    ['listenMs', { listenMs: 5000 }, /"a": ms/],
    ['listenMs.b', { listenMs: { a: 1, b: -1 } }, /non-negative/],
    ['listenMs.a', { listenMs: { a: '5000', b: 1 } }, /number/],
    ['decideMs', { decideMs: Number.POSITIVE_INFINITY }, /finite/],
    ['decideMs', { decideMs: 2 * 86_400_000 }, /at most/],
  ];
  it.each(bad)('rejects a bad %s and names the field', (field, over, reason) => {
    const e = rejection(() => parseVote(vote(over)));
    expect(e.field).toBe(field);
    expect(e.message).toMatch(reason);
    expect(e.message.startsWith(`${field}: `)).toBe(true);
  });

  it('rejects what is not a vote object', () => {
    for (const x of [null, 5, 'vote', undefined]) expect(rejection(() => parseVote(x)).message).toMatch(/vote object/);
  });
});

describe('model ids are checked for form only', () => {
  it('accepts ids never seen before', () => {
    for (const id of ['x', '0', 'mix-unet-fp32', 'mix-unet_v2.int8', 'a'.repeat(64)]) {
      expect(isModelId(id)).toBe(true);
      expect(parseVote(vote({ b: id })).b).toBe(id);
    }
  });
  it('rejects ill-formed ids', () => {
    for (const id of ['', 'A', '-x', '.x', 'x y', 'x/y', '../etc', 'é', 'a'.repeat(65), 'x\n']) {
      expect(MODEL_ID_PATTERN.test(id)).toBe(false);
      expect(rejection(() => parseVote(vote({ a: id }))).field).toBe('a');
    }
  });
});

describe('parseVoteBatch', () => {
  it(`accepts 1 to ${MAX_BATCH_VOTES} votes`, () => {
    expect(parseVoteBatch({ votes: [vote()] })).toHaveLength(1);
    expect(parseVoteBatch({ votes: Array.from({ length: MAX_BATCH_VOTES }, () => vote()) })).toHaveLength(MAX_BATCH_VOTES);
  });

  it('rejects empty, oversized and non-batch bodies', () => {
    expect(rejection(() => parseVoteBatch({ votes: [] })).message).toMatch(/at least one/);
    expect(rejection(() => parseVoteBatch({ votes: Array.from({ length: MAX_BATCH_VOTES + 1 }, () => vote()) })).message).toMatch(/at most 500/);
    expect(rejection(() => parseVoteBatch({})).field).toBe('votes');
    expect(rejection(() => parseVoteBatch([vote()])).field).toBe('votes');
    expect(rejection(() => parseVoteBatch({ votes: vote() })).message).toMatch(/array/);
    expect(rejection(() => parseVoteBatch(null)).message).toMatch(/JSON object/);
  });

  it('names the bad vote by its index: one bad vote rejects the whole batch', () => {
    const votes = [vote(), vote(), vote(), vote({ listenMs: { a: 1 } })];
    const e = rejection(() => parseVoteBatch({ votes }));
    expect(e.field).toBe('votes.3.listenMs.b');
  });

  it('a full batch with the longest ids fits in MAX_BODY_BYTES', () => {
    const long = 'a'.repeat(63);
    const votes = Array.from({ length: MAX_BATCH_VOTES }, () =>
      vote({ a: `${long}x`, b: `${long}y`, aVersion: 'V'.repeat(64), bVersion: 'W'.repeat(64), listenMs: { a: 86_399_999.123, b: 86_399_999.123 }, decideMs: 86_399_999.123 }),
    );
    const bytes = Buffer.byteLength(JSON.stringify({ votes }));
    expect(parseVoteBatch({ votes })).toHaveLength(MAX_BATCH_VOTES);
    expect(bytes).toBeLessThan(MAX_BODY_BYTES);
  });
});

describe('parseLeaderboardResponse', () => {
  it('accepts the protocol minimum and fills the optional parts', () => {
    const lb = parseLeaderboardResponse({ models: [{ id: 'x', rating: 1010, ci: [990, 1030], wins: 3, losses: 1, ties: 0, votes: 4 }] });
    expect(lb.models[0]).toEqual({ id: 'x', rating: 1010, ci: [990, 1030], wins: 3, losses: 1, ties: 0, bothBad: 0, votes: 4 });
    expect(lb.flags).toEqual([]);
    expect(lb.positionBias.aWinRate).toBe(0.5);
  });
  it('rejects a malformed leaderboard with the field', () => {
    expect(rejection(() => parseLeaderboardResponse({ models: [{ id: 'x', rating: '1', ci: [0, 1], wins: 0, losses: 0, ties: 0, votes: 0 }] })).field).toBe('models.0.rating');
    expect(rejection(() => parseLeaderboardResponse({ models: [{ id: 'x', rating: 1, ci: [0], wins: 0, losses: 0, ties: 0, votes: 0 }] })).field).toMatch(/^models\.0\.ci/);
  });
});

// Local vote storage (the sync outbox is the votes store), export-file parsing, the session
// fingerprint, and the pure half of vote sync (addresses, backoff, failure messages).
import 'fake-indexeddb/auto';
import { deleteDB } from 'idb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeDb, openDb } from '../../src/storage/db';
import { DB_NAME } from '../../src/storage/schema';
import { countUnsynced, importVotes, listVotes, localClientId, markSynced, parseVoteFile, saveVote, sessionFingerprint, toVote, unsyncedVotes } from '../../src/features/tournament/vote-store';
import { MAX_BATCH_VOTES, type Vote } from '../../src/shared/votes';
import { BACKOFF_BASE_MS, BACKOFF_MAX_MS, backoffDelay, describeSyncFailure, endpointUrl, parseVoteAck } from '../../src/shared/vote-sync';

const CLIENT = '0b9a3c52-4f1e-4c8e-9d7a-2f3e4d5c6b7a';
const SESSION = 'a'.repeat(64);

function vote(i: number, over: Partial<Vote> = {}): Vote {
  const id = `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
  return {
    id,
    a: 'equal-loudness',
    aVersion: '1.0.0',
    b: 'unity',
    bVersion: '1.0.0',
    winner: i % 2 ? 'a' : 'b',
    client: CLIENT,
    ts: 1_780_000_000_000 + i,
    session: SESSION,
    listenMs: { a: 5200, b: 6100 },
    decideMs: 900,
    ...over,
  };
}

beforeEach(async () => {
  await closeDb();
  await deleteDB(DB_NAME);
});

afterEach(async () => {
  await closeDb();
});

describe('local votes', () => {
  it('stores every field, lists oldest first, and queues each vote until it is marked synced', async () => {
    await saveVote(vote(2));
    await saveVote(vote(1));
    const all = await listVotes();
    expect(all.map((v) => v.id)).toEqual([vote(1).id, vote(2).id]);
    expect(toVote(all[0])).toEqual(vote(1));
    expect(all.every((v) => v.synced === false)).toBe(true);
    expect(await countUnsynced()).toBe(2);
    expect((await unsyncedVotes(1)).map((v) => v.id)).toEqual([vote(1).id]);

    await markSynced([vote(1).id, 'not-stored']);
    expect(await countUnsynced()).toBe(1);
    expect((await unsyncedVotes(10)).map((v) => v.id)).toEqual([vote(2).id]);
    // The flag is local: what is exported or sent is the protocol's Vote only.
    expect(Object.keys(toVote((await listVotes())[0]))).not.toContain('synced');
  });

  it('imports in one transaction, skipping ids already stored or repeated in the file', async () => {
    await saveVote(vote(1));
    await markSynced([vote(1).id]);
    const result = await importVotes([vote(1, { winner: 'tie' }), vote(2), vote(3), vote(2)]);
    expect(result).toEqual({ added: 2, duplicates: 2 });
    const all = await listVotes();
    expect(all).toHaveLength(3);
    // A duplicate never overwrites the stored vote or its sync state.
    expect(all[0].winner).toBe(vote(1).winner);
    expect(all[0].synced).toBe(true);
    expect(await countUnsynced()).toBe(2);
  });

  it('skips records of another shape instead of failing the whole list', async () => {
    await saveVote(vote(1));
    await (await openDb()).put('votes', { id: 'legacy', ts: 5 });
    expect((await listVotes()).map((v) => v.id)).toEqual([vote(1).id]);
  });

  it('creates one client id and keeps it', async () => {
    const first = await localClientId();
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    await closeDb();
    expect(await localClientId()).toBe(first);
    const [x, y] = await Promise.all([localClientId(), localClientId()]);
    expect(x).toBe(first);
    expect(y).toBe(first);
  });
});

describe('export files', () => {
  it('accepts what export writes, of any length', () => {
    const votes = Array.from({ length: MAX_BATCH_VOTES + 3 }, (_, i) => vote(i));
    expect(parseVoteFile(JSON.parse(JSON.stringify({ votes })), 'votes.json')).toEqual(votes);
  });

  it('names the file and the field, counting from the start of the file', () => {
    const votes: unknown[] = Array.from({ length: MAX_BATCH_VOTES + 3 }, (_, i) => vote(i));
    votes[MAX_BATCH_VOTES + 1] = { ...vote(1), a: 'Bad Id!' };
    expect(() => parseVoteFile({ votes }, 'mine.json')).toThrow(/^mine\.json has an invalid vote at votes\.501\.a: ill-formed model id/);
    expect(() => parseVoteFile({ votes: [{ ...vote(1), winner: 'A' }] }, 'x.json')).toThrow(/x\.json .*votes\.0\.winner/);
    expect(() => parseVoteFile([vote(1)], 'arr.json')).toThrow('arr.json is not an AI Mixer votes file');
    expect(() => parseVoteFile({ votes: [] }, 'empty.json')).toThrow('empty.json contains no votes.');
  });
});

describe('session fingerprint', () => {
  const tone = (n: number, f: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * f));

  it('is SHA-256 hex, independent of track order, and changes with one sample', async () => {
    const t1 = [tone(1000, 0.01), tone(1000, 0.02)];
    const t2 = [tone(800, 0.03)];
    const h = await sessionFingerprint([t1, t2]);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(await sessionFingerprint([t2, t1])).toBe(h);
    const changed = [t1[0], Float32Array.from(t1[1])];
    changed[1][500] += 1e-6;
    expect(await sessionFingerprint([changed, t2])).not.toBe(h);
    // Channels are not interchangeable with tracks: a stereo track is not two mono ones.
    expect(await sessionFingerprint([[t1[0]], [t1[1]], t2])).not.toBe(h);
  });

  it('hashes views at an offset by their own bytes', async () => {
    const big = tone(2000, 0.01);
    const view = big.subarray(500, 1500);
    expect(await sessionFingerprint([[view]])).toBe(await sessionFingerprint([[Float32Array.from(view)]]));
  });
});

describe('sync rules', () => {
  it('builds protocol URLs from a base with or without a trailing slash, and refuses non-HTTP bases', () => {
    expect(endpointUrl('http://127.0.0.1:8787/', '/v1/votes')).toBe('http://127.0.0.1:8787/v1/votes');
    expect(endpointUrl(' https://x.org/api ', '/v1/leaderboard')).toBe('https://x.org/api/v1/leaderboard');
    expect(() => endpointUrl('votes.example.org', '/v1/votes')).toThrow(/is not a URL/);
    expect(() => endpointUrl('ftp://x.org', '/v1/votes')).toThrow(/must start with https/);
  });

  it('backs off exponentially with jitter inside [half, full] of the step, capped', () => {
    expect(backoffDelay(0, () => 0)).toBe(BACKOFF_BASE_MS / 2);
    expect(backoffDelay(0, () => 1)).toBe(BACKOFF_BASE_MS);
    expect(backoffDelay(3, () => 0.5)).toBe(Math.round(8 * BACKOFF_BASE_MS * 0.75));
    expect(backoffDelay(50, () => 1)).toBe(BACKOFF_MAX_MS);
    const draws = Array.from({ length: 200 }, () => backoffDelay(4));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(8 * BACKOFF_BASE_MS);
    expect(Math.max(...draws)).toBeLessThanOrEqual(16 * BACKOFF_BASE_MS);
    expect(new Set(draws).size).toBeGreaterThan(50);
  });

  it('retries network, server and rate-limit failures, not a bad token or a rejected body', () => {
    expect(describeSyncFailure(undefined)).toMatchObject({ retry: true, message: expect.stringMatching(/cannot be reached/) });
    expect(describeSyncFailure(503).retry).toBe(true);
    expect(describeSyncFailure(429).retry).toBe(true);
    expect(describeSyncFailure(401, 'bad token')).toEqual({ retry: false, message: expect.stringMatching(/refused the token \(HTTP 401\).*: bad token$/) });
    expect(describeSyncFailure(400, 'votes.0.a: ill-formed').message).toMatch(/rejected the votes \(HTTP 400\): votes\.0\.a/);
    expect(describeSyncFailure(404).retry).toBe(false);
  });

  it('accepts only the protocol answer to a POST', () => {
    expect(parseVoteAck({ accepted: 2, duplicates: 1, extra: true })).toEqual({ accepted: 2, duplicates: 1 });
    expect(() => parseVoteAck({ ok: true })).toThrow(/accepted/);
    expect(() => parseVoteAck({ accepted: -1, duplicates: 0 })).toThrow();
  });
});

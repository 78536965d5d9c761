import 'fake-indexeddb/auto';
import { deleteDB } from 'idb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultMasterSettings, defaultTrackSettings } from '../../src/shared/mix';
import type { SessionRecord, TrackAudio, TrackMeta } from '../../src/shared/session';
import { closeDb, openDb, writeAtomically } from '../../src/storage/db';
import { StorageFullError, isQuotaError, storageUsage, wrapQuota } from '../../src/storage/quota';
import { DB_NAME } from '../../src/storage/schema';
import {
  addTracks,
  deleteSession,
  getCurrentSessionId,
  listSessions,
  loadSession,
  loadTrackAudio,
  removeTrack,
  saveSession,
  setCurrentSessionId,
} from '../../src/storage/sessions';

const RATE = 44100;

function sine(frames: number, freq: number): Float32Array {
  return Float32Array.from({ length: frames }, (_, i) => Math.sin((2 * Math.PI * freq * i) / RATE));
}

function track(id: string, channels: 1 | 2, frames: number): TrackMeta {
  const peaks = Float32Array.from({ length: 2 * Math.ceil(frames / 441) }, (_, i) => (i % 2 ? 0.5 : -0.5) * (1 + i / 1000));
  return { id, name: `Track ${id}`, fileName: `${id}.wav`, channels, length: frames, sourceRate: 48000, peaks };
}

function session(id: string, tracks: TrackMeta[] = [], updatedAt = 1000): SessionRecord {
  return {
    id,
    name: `Session ${id}`,
    sampleRate: RATE,
    createdAt: 1000,
    updatedAt,
    tracks,
    mix: { tracks: Object.fromEntries(tracks.map((t) => [t.id, defaultTrackSettings()])), master: defaultMasterSettings() },
    loop: { enabled: false, start: 0, end: 0 },
    playhead: 1.5,
  };
}

function audioFor(sessionId: string, meta: TrackMeta): TrackAudio {
  const channels = Array.from({ length: meta.channels }, (_, c) => sine(meta.length, 220 * (c + 1)));
  return { sessionId, trackId: meta.id, sampleRate: RATE, channels };
}

async function audioCount(sessionId: string): Promise<number> {
  return (await openDb()).countFromIndex('trackAudio', 'sessionId', sessionId);
}

beforeEach(async () => {
  await closeDb();
  await deleteDB(DB_NAME);
});

afterEach(async () => {
  await closeDb();
});

describe('sessions', () => {
  it('round-trips a session with two tracks, their audio and peaks', async () => {
    const drums = track('drums', 2, 4410);
    const bass = track('bass', 1, 2205);
    const rec = session('s1', [drums, bass]);
    rec.mix.tracks.bass.gainDb = -4.5;
    const audio = [audioFor('s1', drums), audioFor('s1', bass)];

    await addTracks(rec, audio);
    await closeDb(); // read back through a fresh connection, not a cached object

    const loaded = await loadSession('s1');
    expect(loaded).toEqual(rec);
    expect(loaded!.tracks[0].peaks).toBeInstanceOf(Float32Array);
    expect(Array.from(loaded!.tracks[1].peaks)).toEqual(Array.from(bass.peaks));

    const drumsBack = await loadTrackAudio('s1', 'drums');
    expect(drumsBack?.channels).toHaveLength(2);
    expect(drumsBack!.channels[1]).toBeInstanceOf(Float32Array);
    expect(Array.from(drumsBack!.channels[1])).toEqual(Array.from(audio[0].channels[1]));
    const bassBack = await loadTrackAudio('s1', 'bass');
    expect(bassBack).toEqual({ sessionId: 's1', trackId: 'bass', sampleRate: RATE, channels: audio[1].channels });
    expect(await loadTrackAudio('s1', 'vocals')).toBeUndefined();
  });

  it('stores only the samples a partial view covers', async () => {
    const meta = track('gtr', 1, 100);
    const backing = sine(300, 440);
    const view = backing.subarray(100, 200);
    await addTracks(session('s1', [meta]), [{ sessionId: 's1', trackId: 'gtr', sampleRate: RATE, channels: [view] }]);

    const back = await loadTrackAudio('s1', 'gtr');
    expect(back!.channels[0].buffer.byteLength).toBe(400);
    expect(Array.from(back!.channels[0])).toEqual(Array.from(view));
  });

  it('stores exactly-16-bit audio as Int16 at half the size and reads it back bit-exact', async () => {
    const meta = track('kick', 2, 6);
    // Full scale both ways, the smallest step, silence: what a 16-bit WAV decodes to (k / 32768).
    const left = Float32Array.from([-32768, 32767, 1, -1, 0, 12345].map((k) => k / 32768));
    const right = Float32Array.from([0, 0.5, -0.5, 0.25, -0.999969482421875, 3 / 32768]);
    await addTracks(session('s1', [meta]), [{ sessionId: 's1', trackId: 'kick', sampleRate: RATE, channels: [left, right] }]);
    await closeDb();

    const stored = await (await openDb()).get('trackAudio', ['s1', 'kick']);
    expect(stored).toMatchObject({ encoding: 'i16', bytes: 2 * 6 * 2 });
    expect(stored!.channels.map((b) => (b as ArrayBuffer).byteLength)).toEqual([12, 12]);
    const back = await loadTrackAudio('s1', 'kick');
    expect(back!.channels[0]).toBeInstanceOf(Float32Array);
    expect(Array.from(back!.channels[0])).toEqual(Array.from(left));
    expect(Array.from(back!.channels[1])).toEqual(Array.from(right));
  });

  it('stores 16-bit channels (a decoded 16-bit WAV) as they are, and reads them back as their floats', async () => {
    const meta = track('snare', 2, 5);
    const left = Int16Array.from([-32768, 32767, 1, -1, 0]);
    const right = Int16Array.from([100, -100, 2000, -2000, 7]);
    await addTracks(session('s1', [meta]), [{ sessionId: 's1', trackId: 'snare', sampleRate: RATE, channels: [left, right] }]);
    const stored = await (await openDb()).get('trackAudio', ['s1', 'snare']);
    expect(stored).toMatchObject({ encoding: 'i16', bytes: 2 * 5 * 2 });
    const back = await loadTrackAudio('s1', 'snare');
    expect(Array.from(back!.channels[0])).toEqual(Array.from(left, (k) => k / 32768));
    expect(Array.from(back!.channels[1])).toEqual(Array.from(right, (k) => k / 32768));
  });

  it('keeps float32 for audio a 16-bit record would change, in every channel', async () => {
    const meta = track('pad', 2, 4);
    const exact = Float32Array.from([0, 0.5, -0.25, 1 / 32768]);
    const cases: Float32Array[] = [
      Float32Array.from([0.5, 1 / 65536, 0, 0]), // finer than 16 bits
      Float32Array.from([0.5, 1, 0, 0]), // +1.0 is one step past the largest 16-bit value
      Float32Array.from([0.5, -0, 0, 0]), // −0 would read back as +0
      Float32Array.from([0.5, -1.5, 0, 0]), // beyond full scale
    ];
    for (const [k, odd] of cases.entries()) {
      await addTracks(session('s1', [{ ...meta, id: `pad${k}` }]), [{ sessionId: 's1', trackId: `pad${k}`, sampleRate: RATE, channels: [exact, odd] }]);
      const stored = await (await openDb()).get('trackAudio', ['s1', `pad${k}`]);
      expect(stored).toMatchObject({ encoding: 'f32', bytes: 2 * 4 * 4 });
      const back = await loadTrackAudio('s1', `pad${k}`);
      expect(back!.channels[1].map((v) => (Object.is(v, -0) ? 7 : v))).toEqual(odd.map((v) => (Object.is(v, -0) ? 7 : v)));
    }
  });

  it('stores the decoder\'s encoded Blobs as they are, and encodes the channels itself when they do not fit', async () => {
    const meta = track('snare', 1, 3);
    const channels = [Float32Array.from([0.5, -0.25, 0])];
    const encoded = { encoding: 'i16' as const, channels: [new Blob([Int16Array.from([16384, -8192, 0])])] };
    await addTracks(session('s1', [meta]), [{ sessionId: 's1', trackId: 'snare', sampleRate: RATE, channels, encoded }]);
    const stored = await (await openDb()).get('trackAudio', ['s1', 'snare']);
    expect(stored).toMatchObject({ encoding: 'i16', bytes: 6 });
    expect(stored!.channels[0]).toBeInstanceOf(Blob);
    await closeDb();
    expect(Array.from((await loadTrackAudio('s1', 'snare'))!.channels[0])).toEqual([0.5, -0.25, 0]);

    const floats = { encoding: 'f32' as const, channels: [new Blob([Float32Array.from([0.1, 0.2, 0.3])])] };
    await addTracks(session('s1', [meta]), [{ sessionId: 's1', trackId: 'snare', sampleRate: RATE, channels: [Float32Array.from([0.1, 0.2, 0.3])], encoded: floats }]);
    expect(await (await openDb()).get('trackAudio', ['s1', 'snare'])).toMatchObject({ encoding: 'f32', bytes: 12 });
    expect(Array.from((await loadTrackAudio('s1', 'snare'))!.channels[0])).toEqual(Array.from(Float32Array.from([0.1, 0.2, 0.3])));

    // A Blob of the wrong size is not this audio: the channels themselves are stored.
    const wrong = { encoding: 'i16' as const, channels: [new Blob([new Int16Array(2)])] };
    await addTracks(session('s1', [meta]), [{ sessionId: 's1', trackId: 'snare', sampleRate: RATE, channels, encoded: wrong }]);
    const back = await (await openDb()).get('trackAudio', ['s1', 'snare']);
    expect(back!.channels[0]).toBeInstanceOf(ArrayBuffer);
    expect(Array.from((await loadTrackAudio('s1', 'snare'))!.channels[0])).toEqual([0.5, -0.25, 0]);
  });

  it('reads float32 records written before the encoding field existed', async () => {
    const meta = track('old', 1, 3);
    await saveSession(session('s1', [meta]));
    const samples = Float32Array.from([0.1, -0.2, 0.3]);
    await (await openDb()).put('trackAudio', { sessionId: 's1', trackId: 'old', sampleRate: RATE, channels: [samples.slice().buffer], bytes: 12 });
    await closeDb();
    const back = await loadTrackAudio('s1', 'old');
    expect(Array.from(back!.channels[0])).toEqual(Array.from(samples));
  });

  it('addTracks writes nothing when a put fails mid-transaction', async () => {
    const before = session('s1');
    await saveSession(before);
    const good = track('good', 1, 1000);
    // An undefined key component makes the second audio put throw DataError after the first two puts were issued.
    const bad = { ...track('bad', 1, 1000), id: undefined as unknown as string };
    const after = session('s1', [good, bad], 2000);

    await expect(addTracks(after, [audioFor('s1', good), audioFor('s1', bad)])).rejects.toMatchObject({ name: 'DataError' });

    expect(await loadSession('s1')).toEqual(before);
    expect(await audioCount('s1')).toBe(0);
  });

  it('a transaction whose request fails asynchronously rolls back every earlier write', async () => {
    await saveSession(session('s1'));
    const write = writeAtomically(['sessions', 'trackAudio'], async (tx) => {
      await tx.objectStore('trackAudio').put({ sessionId: 's1', trackId: 't', sampleRate: RATE, channels: [], bytes: 0 });
      await tx.objectStore('sessions').put(session('s1', [], 5000));
      await tx.objectStore('sessions').add(session('s1')); // ConstraintError: key already exists
    });
    await expect(write).rejects.toMatchObject({ name: 'ConstraintError' });

    expect((await loadSession('s1'))!.updatedAt).toBe(1000);
    expect(await audioCount('s1')).toBe(0);
  });

  it('rejects audio that belongs to another session or to no track of it', async () => {
    const meta = track('a', 1, 10);
    await expect(addTracks(session('s1', [meta]), [audioFor('s2', meta)])).rejects.toThrow(/does not belong/);
    await expect(addTracks(session('s1', []), [audioFor('s1', meta)])).rejects.toThrow(/does not belong/);
    expect(await loadSession('s1')).toBeUndefined();
  });

  it('deleteSession removes the session, its audio and exports, and only those', async () => {
    const a = track('a', 2, 1000);
    const b = track('b', 1, 1000);
    await addTracks(session('s1', [a, b]), [audioFor('s1', a), audioFor('s1', b)]);
    await addTracks(session('s2', [a]), [audioFor('s2', a)]);
    const db = await openDb();
    const blob = new Blob([new Uint8Array(10)], { type: 'audio/wav' });
    const exportOf = (id: string, sessionId: string) => ({ id, sessionId, name: id, format: 'wav', mime: 'audio/wav', createdAt: 1, bytes: 10, blob });
    await db.put('exports', exportOf('x1', 's1'));
    await db.put('exports', exportOf('x2', 's2'));
    await setCurrentSessionId('s1');

    await deleteSession('s1');

    expect(await loadSession('s1')).toBeUndefined();
    expect(await audioCount('s1')).toBe(0);
    expect(await db.get('exports', 'x1')).toBeUndefined();
    expect(await getCurrentSessionId()).toBeUndefined();
    expect(await loadSession('s2')).toBeDefined();
    expect(await audioCount('s2')).toBe(1);
    expect(await db.get('exports', 'x2')).toBeDefined();
  });

  it('removeTrack drops the track, its mix settings and its audio together', async () => {
    const a = track('a', 1, 100);
    const b = track('b', 1, 100);
    await addTracks(session('s1', [a, b]), [audioFor('s1', a), audioFor('s1', b)]);

    const updated = await removeTrack('s1', 'a');

    expect(updated!.tracks.map((t) => t.id)).toEqual(['b']);
    expect(Object.keys(updated!.mix.tracks)).toEqual(['b']);
    expect(await loadSession('s1')).toEqual(updated);
    expect(await loadTrackAudio('s1', 'a')).toBeUndefined();
    expect(await loadTrackAudio('s1', 'b')).toBeDefined();
    expect(await removeTrack('missing', 'a')).toBeUndefined();
  });

  it('lists sessions most recently edited first and remembers the current one', async () => {
    await saveSession(session('old', [], 100));
    await saveSession(session('new', [], 300));
    await saveSession(session('mid', [], 200));
    expect((await listSessions()).map((s) => s.id)).toEqual(['new', 'mid', 'old']);

    expect(await getCurrentSessionId()).toBeUndefined();
    await setCurrentSessionId('mid');
    await closeDb();
    expect(await getCurrentSessionId()).toBe('mid');
    await setCurrentSessionId(undefined);
    expect(await getCurrentSessionId()).toBeUndefined();
  });
});

describe('storageUsage', () => {
  it('lists sessions (audio plus peaks), exports, models and votes with their stored sizes', async () => {
    const a = track('a', 2, 1000); // 2 × 1000 × 4 = 8000 audio bytes
    const b = track('b', 1, 500); // 2000 audio bytes
    await addTracks(session('s1', [a, b]), [audioFor('s1', a), audioFor('s1', b)]);
    const db = await openDb();
    const wav = new Blob([new Uint8Array(1234)], { type: 'audio/wav' });
    await db.put('exports', { id: 'x1', sessionId: 's1', name: 'Master.wav', format: 'wav', mime: 'audio/wav', createdAt: 1, bytes: wav.size, blob: wav });
    await db.put('models', { id: 'automix', version: '1', sha256: 'ab', bytes: 4096, data: new ArrayBuffer(4096), fetchedAt: 1 });
    const votes = [{ id: 'v1', ts: 1, winner: 'A' }, { id: 'v2', ts: 2, winner: 'B' }];
    for (const v of votes) await db.put('votes', v);

    const usage = await storageUsage();

    const peakBytes = a.peaks.byteLength + b.peaks.byteLength;
    expect(usage.items).toEqual([
      { kind: 'session', id: 's1', label: 'Session s1', bytes: 10000 + peakBytes },
      { kind: 'model', id: 'automix', label: 'automix', bytes: 4096 },
      { kind: 'export', id: 'x1', label: 'Master.wav', bytes: 1234 },
      { kind: 'votes', id: 'votes', label: '2 tournament votes', bytes: JSON.stringify(votes).length },
    ]);
  });

  it('is empty for an empty database', async () => {
    expect((await storageUsage()).items).toEqual([]);
  });
});

describe('quota errors', () => {
  const quota = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError');

  it('recognises a quota DOMException directly, as a transaction error and as a cause', () => {
    expect(isQuotaError(quota())).toBe(true);
    expect(isQuotaError({ error: quota() })).toBe(true); // an aborted IDBTransaction or IDBRequest
    expect(isQuotaError(new Error('write failed', { cause: quota() }))).toBe(true);
    expect(isQuotaError(new DOMException('aborted', 'AbortError'))).toBe(false);
    expect(isQuotaError(new DOMException('bad key', 'DataError'))).toBe(false);
    expect(isQuotaError(undefined)).toBe(false);
  });

  it('wrapQuota turns a quota failure into StorageFullError and passes others through', async () => {
    const full = wrapQuota(() => Promise.reject(quota()));
    await expect(full).rejects.toBeInstanceOf(StorageFullError);
    await expect(full).rejects.toMatchObject({ name: 'StorageFullError', message: expect.stringMatching(/storage is full.*Delete/i) });
    const other = new DOMException('bad key', 'DataError');
    await expect(wrapQuota(() => Promise.reject(other))).rejects.toBe(other);
    await expect(wrapQuota(() => Promise.resolve(7))).resolves.toBe(7);
  });
});

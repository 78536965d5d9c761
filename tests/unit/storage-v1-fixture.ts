// A database as the app wrote it at storage version 1: that version's upgrade path (copied, not imported,
// so later changes to schema.ts cannot change it) and records of the shapes and under the keys it used.
import { openDB, type IDBPDatabase } from 'idb';
import { defaultMasterSettings, defaultTrackSettings } from '../../src/shared/mix';
import type { SessionRecord } from '../../src/shared/session';
import type { Vote } from '../../src/shared/votes';
import { ANALYSIS_VERSION, type EpisodeAnalysis } from '../../src/features/podcast/episode';
import { segmentEpisode } from '../../src/features/podcast/segments';
import { selectReel } from '../../src/features/podcast/select';

export const V1_DB_NAME = 'ai-mixer';
const RATE = 44100;

/** Version 1's upgrade, verbatim. */
export function upgradeV1(db: IDBPDatabase): void {
  db.createObjectStore('sessions', { keyPath: 'id' });
  const audio = db.createObjectStore('trackAudio', { keyPath: ['sessionId', 'trackId'] });
  audio.createIndex('sessionId', 'sessionId');
  audio.createIndex('bytes', 'bytes');
  db.createObjectStore('exports', { keyPath: 'id' }).createIndex('sessionId', 'sessionId');
  db.createObjectStore('models', { keyPath: 'id' }).createIndex('bytes', 'bytes');
  db.createObjectStore('votes', { keyPath: 'id' });
  db.createObjectStore('kv');
}

function sine(frames: number, freq: number): Float32Array<ArrayBuffer> {
  return Float32Array.from({ length: frames }, (_, i) => 0.5 * Math.sin((2 * Math.PI * freq * i) / RATE));
}

export const V1_SESSION: SessionRecord = {
  id: 's1',
  name: 'Band rehearsal',
  sampleRate: RATE,
  createdAt: 1_700_000_000_000,
  updatedAt: 1_700_000_100_000,
  tracks: [
    { id: 'kick', name: 'Kick', fileName: 'kick.wav', channels: 1, length: 4410, sourceRate: 48000, peaks: Float32Array.from({ length: 20 }, (_, i) => (i % 2 ? 0.4 : -0.4)) },
    { id: 'pad', name: 'Pad', fileName: 'pad.flac', channels: 2, length: 4410, sourceRate: 44100, peaks: Float32Array.from({ length: 20 }, (_, i) => (i % 2 ? 0.2 : -0.2)) },
  ],
  mix: { tracks: { kick: { ...defaultTrackSettings(), gainDb: -3 }, pad: defaultTrackSettings() }, master: defaultMasterSettings() },
  loop: { enabled: true, start: 0.01, end: 0.08 },
  playhead: 0.05,
};

export const V1_KICK = sine(4410, 60);
/** Exactly 16-bit samples, stored as Int16 by version 1. */
export const V1_PAD_I16 = [Int16Array.from({ length: 4410 }, (_, i) => ((i * 37) % 2000) - 1000), Int16Array.from({ length: 4410 }, (_, i) => ((i * 53) % 2000) - 1000)];

export const V1_VOTES: (Vote & { synced?: boolean })[] = [
  { id: 'v1', a: 'mixnet-int8', aVersion: '1.0.0', b: 'heuristic', bVersion: '1', winner: 'a', client: 'client-123', ts: 1_700_000_200_000, session: 'f'.repeat(64), listenMs: { a: 9000, b: 8000 }, decideMs: 2500, synced: true },
  { id: 'v2', a: 'heuristic', aVersion: '1', b: 'mixnet-int8', bVersion: '1.0.0', winner: 'tie', client: 'client-123', ts: 1_700_000_300_000, session: 'f'.repeat(64), listenMs: { a: 7000, b: 7100 }, decideMs: 1200, synced: false },
];

/** A 60 s speech-like episode analysis: talk with a pause every 8 s, as the analysis pipeline stores it. */
export function v1Analysis(): EpisodeAnalysis {
  const durationS = 60;
  const frames = durationS * 100;
  const quiet = (f: number) => f % 800 > 760;
  const levelDb = Float32Array.from({ length: frames }, (_, f) => (quiet(f) ? -75 : -20 + 3 * Math.sin(f / 7)));
  const per = (v: (f: number) => number) => Float32Array.from({ length: frames }, (_, f) => v(f));
  return {
    version: ANALYSIS_VERSION,
    durationS,
    levelDb,
    flatness: per((f) => (quiet(f) ? 0.9 : 0.2)),
    centroidHz: per((f) => (quiet(f) ? 0 : 1500)),
    flux: per((f) => (quiet(f) ? 0 : 0.3)),
    hfRatio: per(() => 0.1),
    stability: per(() => 0.5),
    pitchHz: per((f) => (quiet(f) ? 0 : 120 + (f % 50))),
    voicing: per((f) => (quiet(f) ? 0 : 0.8)),
    speechProb: Float32Array.from({ length: durationS * 31.25 }, () => 0.9),
    classes: Uint8Array.from({ length: durationS * 5 }, (_, b) => (quiet(b * 20) ? 0 : 1)),
    gateDb: -50,
    vad: { scored: 1875, modelFrames: 1875, activeFrames: 1700, frames: 1875 },
    decoders: { page: 1, ffmpeg: 0 },
    seconds: { decode: 0.4, features: 1.1, vad: 2.3 },
    warnings: [],
  };
}

export const V1_EPISODE = {
  version: 1,
  id: 'ep-42',
  name: 'Episode 42.mp3',
  size: 24,
  lastModified: 1_700_000_400_000,
  type: 'audio/mpeg',
  source: { kind: 'ffmpeg' as const, codec: 'mp3', durationS: 60, sampleRate: 44100, channels: 2 },
  warnings: [],
  savedAt: 1_700_000_500_000,
};
export const V1_EPISODE_BYTES = 'ID3 episode bytes here!!';

export const V1_SELF_CHECK = { sha256: 'ab'.repeat(32), tolerance: 1e-3, result: { ep: 'webgpu' as const, maxAbsDiff: 2e-5, tolerance: 1e-3, reason: null } };
export const V1_SYNC_SETTINGS = { enabled: true, url: 'https://votes.example.org', token: 'secret' };
export const V1_TOURNAMENT = {
  sessionId: 's1',
  selected: ['mixnet-int8', 'heuristic'],
  active: true,
  pair: { a: 'mixnet-int8', b: 'heuristic', listenedMs: { a: 5000, b: 0 }, unlockedAt: null },
  loop: { enabled: false, start: 0, end: 10 },
  open: true,
  fingerprint: { key: 's1:kick,pad', hash: 'f'.repeat(64) },
};

/** Writes the version 1 database with a record of every kind, then closes it. */
export async function writeV1Database(): Promise<void> {
  const db = await openDB(V1_DB_NAME, 1, { upgrade: (d) => upgradeV1(d) });
  const tx = db.transaction(['sessions', 'trackAudio', 'exports', 'models', 'votes', 'kv'], 'readwrite');
  const kv = tx.objectStore('kv');
  const analysis = v1Analysis();
  const structure = segmentEpisode(analysis);
  const plan = selectReel(structure.segments, 'best-of', 20);
  await Promise.all([
    tx.objectStore('sessions').put(V1_SESSION),
    // Written before 'encoding' existed: float32 without the field.
    tx.objectStore('trackAudio').put({ sessionId: 's1', trackId: 'kick', sampleRate: RATE, channels: [V1_KICK.slice().buffer], bytes: V1_KICK.byteLength }),
    tx.objectStore('trackAudio').put({ sessionId: 's1', trackId: 'pad', sampleRate: RATE, channels: V1_PAD_I16.map((c) => new Blob([c.slice().buffer])), encoding: 'i16', bytes: 2 * 4410 * 2 }),
    tx.objectStore('exports').put({ id: 'x1', sessionId: 's1', name: 'Band rehearsal.wav', format: 'wav', mime: 'audio/wav', createdAt: 1_700_000_600_000, bytes: 10, blob: new Blob(['RIFF……WAV']), lufs: -14.1, truePeakDb: -1.2 }),
    tx.objectStore('exports').put({ id: 'x2', sessionId: 'podcast:ep-42', name: 'Episode 42 reel.mp3', format: 'mp3', mime: 'audio/mpeg', createdAt: 1_700_000_700_000, bytes: 3, blob: new Blob(['ID3']) }),
    tx.objectStore('models').put({ id: 'mixnet-int8', version: '1.0.0', sha256: 'ab'.repeat(32), bytes: 8, data: new Uint8Array([8, 1, 2, 3, 4, 5, 6, 7]).buffer, fetchedAt: 1_700_000_800_000 }),
    ...V1_VOTES.map((v) => tx.objectStore('votes').put(v)),
    kv.put('s1', 'currentSessionId'),
    kv.put('client-123', 'clientId'),
    kv.put(V1_SYNC_SETTINGS, 'voteSync'),
    kv.put(V1_TOURNAMENT, 'tournament'),
    kv.put(V1_EPISODE, 'podcast:episode'),
    kv.put(new Blob([V1_EPISODE_BYTES], { type: 'audio/mpeg' }), 'podcast:file'),
    kv.put({ episodeId: V1_EPISODE.id, analysis, structure }, 'podcast:analysis'),
    kv.put({ episodeId: V1_EPISODE.id, themeId: 'best-of', targetS: 20, layout: 'stereo', plan, intro: { name: 'jingle.wav', blob: new Blob(['RIFFjingle']), durationS: 2 }, outro: null }, 'podcast:reel'),
    kv.put(V1_SELF_CHECK, 'selfcheck:mixnet-int8'),
    kv.put({ ...V1_SELF_CHECK, result: { ...V1_SELF_CHECK.result, ep: 'wasm', reason: 'WebGPU disagreed' } }, 'selfcheck:mixnet-float32'),
    tx.done,
  ]);
  db.close();
}

// The episode's analysis as one timeline: chunk features joined, then per-block sound classes.
//
// Classes, decided per 0.2 s block from a 0.6 s window around it (thresholds chosen on espeak speech,
// synthetic laughter, applause, music and tones, and documented with each rule below):
// - silence: the 10 ms level never passes the episode's gate (its noise floor + 8 dB, within −60…−45 dBFS);
// - speech: silero's speech probability ≥ 0.5 (averaged over the window);
// - laughter: the level envelope repeats at a syllable period of 150–300 ms (normalised autocorrelation
//   ≥ LAUGH_PERIODICITY) with deep dips (≥ 12 dB), voiced and high-pitched (mean F0 ≥ 170 Hz); laughter
//   often scores as half-speech, so it overrides speech;
// - applause: not speech, noise-like (flatness ≥ 0.15) with most power above 3.5 kHz (≥ 0.45);
// - music: not speech, tonal (flatness < 0.1), partials that hold still (stability ≥ 0.6) and onsets
//   (flux ≥ 1.5 dB/bin) — a steady test tone has the first two but no onsets;
// - tone: steady and tonal without onsets (a test tone, a hum);
// - other: anything active that fits none of these.
import { LEVEL_HOP_S, SPEC_HOP_S, type FrameFeatures } from './features';
import { VAD_FRAME_S } from '../../../models/silero-vad/runner';
import type { DecoderName } from './analyse';

export const ANALYSIS_VERSION = 1;
export const BLOCK_S = 0.2;
const WINDOW_BLOCKS = 3;
export const LAUGH_PERIODICITY = 0.45;

export type SoundClass = 'silence' | 'speech' | 'laughter' | 'applause' | 'music' | 'tone' | 'other';
export const SOUND_CLASSES: readonly SoundClass[] = ['silence', 'speech', 'laughter', 'applause', 'music', 'tone', 'other'];

/** What a worker returns for one analysis chunk. */
export interface ChunkAnalysis extends FrameFeatures {
  index: number;
  startS: number;
  durationS: number;
  speechProb: Float32Array;
  vad: { scored: number; modelFrames: number; activeFrames: number };
  /** Which decoder read the chunk. */
  decoder?: DecoderName;
  /** Where the chunk's time went (seconds): decoding, frame features, voice activity. */
  seconds?: { decode: number; features: number; vad: number };
  warnings: string[];
}

/** The whole episode's analysis: what is stored, and what segmentation reads. */
export interface EpisodeAnalysis extends FrameFeatures {
  version: number;
  durationS: number;
  speechProb: Float32Array;
  /** One SOUND_CLASSES index per BLOCK_S block. */
  classes: Uint8Array;
  gateDb: number;
  vad: { scored: number; modelFrames: number; activeFrames: number; frames: number };
  /** Chunks read by each decoder. */
  decoders: Record<DecoderName, number>;
  /** CPU seconds of the chunk analyses, summed over both workers. */
  seconds: { decode: number; features: number; vad: number };
  warnings: string[];
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The level gate that separates silence from sound: noise floor + 8 dB, kept within −60…−45 dBFS. */
export function silenceGateDb(levelDb: Float32Array): number {
  if (levelDb.length === 0) return -60;
  // A strided sample is enough for a percentile of a 3-hour contour (1 M values).
  const step = Math.max(1, Math.floor(levelDb.length / 20000));
  const sample: number[] = [];
  for (let i = 0; i < levelDb.length; i += step) sample.push(levelDb[i]);
  sample.sort((a, b) => a - b);
  const floor = sample[Math.floor(sample.length * 0.05)];
  return Math.min(Math.max(floor + 8, -60), -45);
}

/** Joins chunk analyses (any order) into the episode timeline and classifies it. */
export function assembleEpisode(chunks: ChunkAnalysis[], durationS: number): EpisodeAnalysis {
  const sorted = [...chunks].sort((a, b) => a.index - b.index);
  const pick = (k: keyof FrameFeatures) => concat(sorted.map((c) => c[k]));
  const analysis: EpisodeAnalysis = {
    version: ANALYSIS_VERSION,
    durationS,
    levelDb: pick('levelDb'),
    flatness: pick('flatness'),
    centroidHz: pick('centroidHz'),
    flux: pick('flux'),
    hfRatio: pick('hfRatio'),
    stability: pick('stability'),
    pitchHz: pick('pitchHz'),
    voicing: pick('voicing'),
    speechProb: concat(sorted.map((c) => c.speechProb)),
    classes: new Uint8Array(0),
    gateDb: -60,
    vad: {
      scored: sorted.reduce((n, c) => n + c.vad.scored, 0),
      modelFrames: sorted.reduce((n, c) => n + c.vad.modelFrames, 0),
      activeFrames: sorted.reduce((n, c) => n + c.vad.activeFrames, 0),
      frames: sorted.reduce((n, c) => n + c.speechProb.length, 0),
    },
    decoders: { page: sorted.filter((c) => c.decoder === 'page').length, ffmpeg: sorted.filter((c) => c.decoder !== 'page').length },
    seconds: {
      decode: sorted.reduce((n, c) => n + (c.seconds?.decode ?? 0), 0),
      features: sorted.reduce((n, c) => n + (c.seconds?.features ?? 0), 0),
      vad: sorted.reduce((n, c) => n + (c.seconds?.vad ?? 0), 0),
    },
    warnings: [...new Set(sorted.flatMap((c) => c.warnings))],
  };
  analysis.gateDb = silenceGateDb(analysis.levelDb);
  analysis.classes = classifyBlocks(analysis);
  return analysis;
}

function meanOver(x: Float32Array, from: number, to: number): number {
  const a = Math.max(0, Math.floor(from));
  const b = Math.min(x.length, Math.ceil(to));
  if (b <= a) return 0;
  let s = 0;
  for (let i = a; i < b; i++) s += x[i];
  return s / (b - a);
}

/**
 * Envelope periodicity at a syllable rate: the largest normalised autocorrelation of the 10 ms level (floored
 * 40 dB under its peak) at lags of 150–300 ms, over [from, to) level frames; and the envelope's depth (p90 − p10).
 */
// Scratch for syllablePeriodicity: it runs for thousands of blocks of a long episode.
let envelope = new Float64Array(256);

export function syllablePeriodicity(levelDb: Float32Array, from: number, to: number): { periodicity: number; depthDb: number } {
  const a = Math.max(0, from);
  const b = Math.min(levelDb.length, to);
  const n = b - a;
  if (n < 40) return { periodicity: 0, depthDb: 0 };
  let peak = -Infinity;
  for (let i = a; i < b; i++) peak = Math.max(peak, levelDb[i]);
  if (envelope.length < n) envelope = new Float64Array(n);
  const e = envelope;
  let mean = 0;
  for (let i = 0; i < n; i++) {
    e[i] = Math.max(levelDb[a + i], peak - 40);
    mean += e[i];
  }
  mean /= n;
  let var0 = 0;
  for (let i = 0; i < n; i++) {
    e[i] -= mean;
    var0 += e[i] * e[i];
  }
  const sorted = e.slice(0, n).sort();
  const depthDb = sorted[Math.floor(n * 0.9)] - sorted[Math.floor(n * 0.1)];
  if (var0 <= 1e-9) return { periodicity: 0, depthDb };
  let best = 0;
  for (let lag = 15; lag <= 30; lag++) {
    let s = 0;
    for (let i = 0; i + lag < n; i++) s += e[i] * e[i + lag];
    // Unbiased: scale by the number of products.
    best = Math.max(best, ((s / (n - lag)) * n) / var0);
  }
  return { periodicity: best, depthDb };
}

/** Per-block features the classes are decided from (exported for tests and the feature docs). */
export interface BlockFeatures {
  levelMaxDb: number;
  speech: number;
  flatness: number;
  stability: number;
  flux: number;
  hfRatio: number;
  voicing: number;
  pitchHz: number;
  periodicity: number;
  depthDb: number;
}

/**
 * The features of one block. With `gateDb`, the envelope periodicity (the costly part) is only measured where
 * laughter is possible at all (sound, voiced, high-pitched, not certain speech); elsewhere it is reported as 0.
 */
export function blockFeatures(a: FrameFeatures & { speechProb: Float32Array }, block: number, gateDb?: number): BlockFeatures {
  const t0 = (block - (WINDOW_BLOCKS - 1) / 2) * BLOCK_S;
  const t1 = t0 + WINDOW_BLOCKS * BLOCK_S;
  const l0 = Math.max(0, Math.floor(t0 / LEVEL_HOP_S));
  const l1 = Math.min(a.levelDb.length, Math.ceil(t1 / LEVEL_HOP_S));
  let levelMaxDb = -120;
  for (let i = Math.floor((block * BLOCK_S) / LEVEL_HOP_S); i < Math.min(a.levelDb.length, Math.ceil(((block + 1) * BLOCK_S) / LEVEL_HOP_S)); i++) levelMaxDb = Math.max(levelMaxDb, a.levelDb[i]);
  const s0 = t0 / SPEC_HOP_S;
  const s1 = t1 / SPEC_HOP_S;
  let pitchSum = 0;
  let voiced = 0;
  for (let i = Math.max(0, Math.floor(s0)); i < Math.min(a.pitchHz.length, Math.ceil(s1)); i++) {
    if (a.pitchHz[i] > 0) {
      pitchSum += a.pitchHz[i];
      voiced++;
    }
  }
  const f: BlockFeatures = {
    levelMaxDb,
    speech: meanOver(a.speechProb, t0 / VAD_FRAME_S, t1 / VAD_FRAME_S),
    flatness: meanOver(a.flatness, s0, s1),
    stability: meanOver(a.stability, s0, s1),
    flux: meanOver(a.flux, s0, s1),
    hfRatio: meanOver(a.hfRatio, s0, s1),
    voicing: meanOver(a.voicing, s0, s1),
    pitchHz: voiced ? pitchSum / voiced : 0,
    periodicity: 0,
    depthDb: 0,
  };
  if (gateDb === undefined || (levelMaxDb > gateDb && f.voicing >= LAUGH_VOICING && f.pitchHz >= LAUGH_PITCH_HZ && f.speech < LAUGH_MAX_SPEECH)) {
    // Laughter's periodicity is read over a longer window (1.2 s) than the block's own features.
    const mid = ((block + 0.5) * BLOCK_S) / LEVEL_HOP_S;
    Object.assign(f, syllablePeriodicity(a.levelDb, Math.round(mid - 60), Math.round(mid + 60)));
  }
  return f;
}

const LAUGH_VOICING = 0.35;
const LAUGH_PITCH_HZ = 170;
const LAUGH_MAX_SPEECH = 0.9;

/** The class of one block, by the rules in the header comment. */
export function classifyBlock(f: BlockFeatures, gateDb: number): SoundClass {
  if (f.levelMaxDb <= gateDb) return 'silence';
  const laughing = f.periodicity >= LAUGH_PERIODICITY && f.depthDb >= 12 && f.voicing >= LAUGH_VOICING && f.pitchHz >= LAUGH_PITCH_HZ;
  if (laughing && f.speech < LAUGH_MAX_SPEECH) return 'laughter';
  if (f.speech >= 0.5) return 'speech';
  if (f.flatness >= 0.15 && f.hfRatio >= 0.45) return 'applause';
  if (f.flatness < 0.1 && f.stability >= 0.6) return f.flux >= 1.5 ? 'music' : 'tone';
  return 'other';
}

function classifyBlocks(a: EpisodeAnalysis): Uint8Array {
  const blocks = Math.ceil(a.durationS / BLOCK_S);
  const raw = new Uint8Array(blocks);
  for (let b = 0; b < blocks; b++) raw[b] = SOUND_CLASSES.indexOf(classifyBlock(blockFeatures(a, b, a.gateDb), a.gateDb));
  // A lone block that differs from two equal neighbours is noise in the decision, not an event.
  const out = raw.slice();
  for (let b = 1; b + 1 < blocks; b++) if (raw[b - 1] === raw[b + 1] && raw[b] !== raw[b - 1] && raw[b] !== 0) out[b] = raw[b - 1];
  // Events shorter than their class's minimum are edges of something else (an onset's deep dip looks periodic).
  for (const [cls, minBlocks] of MIN_EVENT_BLOCKS) {
    const k = SOUND_CLASSES.indexOf(cls);
    for (let b = 0; b < blocks; ) {
      if (out[b] !== k) {
        b++;
        continue;
      }
      let e = b;
      while (e < blocks && out[e] === k) e++;
      if (e - b < minBlocks) {
        const before = b > 0 ? out[b - 1] : 0;
        const after = e < blocks ? out[e] : 0;
        out.fill(before !== 0 ? before : after !== 0 ? after : SOUND_CLASSES.indexOf('other'), b, e);
      }
      b = e;
    }
  }
  return out;
}

/** Shortest run (in blocks) each event class must last. */
const MIN_EVENT_BLOCKS: [SoundClass, number][] = [
  ['laughter', 4],
  ['applause', 3],
  ['music', 3],
  ['tone', 3],
];

/** Runs of one class as [startS, endS) intervals. */
export function classRuns(a: Pick<EpisodeAnalysis, 'classes' | 'durationS'>, cls: SoundClass): [number, number][] {
  const k = SOUND_CLASSES.indexOf(cls);
  const runs: [number, number][] = [];
  let start = -1;
  for (let b = 0; b <= a.classes.length; b++) {
    const on = b < a.classes.length && a.classes[b] === k;
    if (on && start < 0) start = b;
    if (!on && start >= 0) {
      runs.push([start * BLOCK_S, Math.min(a.durationS, b * BLOCK_S)]);
      start = -1;
    }
  }
  return runs;
}

// silero VAD's runner: speech probability per 32 ms frame of 8 kHz audio, the model opened through the registry
// loader (src/ml/registry-loader.ts) like every other model. The podcast best-of calls it on each chunk.
//
// The model: the 8 kHz branch of silero VAD v5 with its convolutions written as MatMuls over the batch
// (models/silero-vad/silero_vad_v5_8k.onnx, made by scripts/silero-vad-8k.ts from the package's file: the same
// weights, outputs within 5e-6 of the shipped graph's, and 3.8× faster per frame at batch 128 in onnxruntime-web).
// Inputs `input` [batch, 32 + 256] (32 samples of context from the previous frame, then one 32 ms frame at
// 8 kHz) and `state` [2, batch, 128]; outputs `output` [batch, 1] (speech probability) and `stateN` (the next
// state). It is recurrent, so a frame's score depends on the frames before it.
//
// Why it is run this way (measured in a worker in headless Chromium and in Node on this 2-core machine):
// - batch 1 costs 1.8–4.8 ms per frame at 16 kHz: 3 hours (337 500 frames) would take 10+ minutes;
// - at 8 kHz a frame costs 2–3× less (0.25–0.7 ms batched) and the decisions agree with 16 kHz on 99 % of
//   frames of espeak speech, music and noise;
// - batching independent windows (a window per batch row, state reset per window) brings the cost per frame
//   down 3–6× at batch 64–256; a window of WINDOW frames whose first WARMUP frames only prime the state agrees
//   with a continuous run on 98.8 % of frames;
// - so the VAD scores sparse probe windows inside the parts the level says are not silence, then tiles densely
//   only between probes that disagree (a speech/non-speech change). Silence is never sent to the model.
import type { ModelSession, TensorData } from '../../src/ml/ort';
import type { ModelMeta } from '../../src/shared/model-meta';

export const SILERO_VAD_ID = 'silero-vad';
/** The model's input rate: this file is silero's 8 kHz branch only. */
export const VAD_RATE = 8000;
export const VAD_FRAME = 256;
export const VAD_CONTEXT = 32;
export const VAD_FRAME_S = VAD_FRAME / VAD_RATE;
/** Frames per window, and how many of them only prime the recurrent state. */
export const WINDOW = 12;
export const WARMUP = 4;
/** Frames from one probe window's start to the next (3.07 s): an eighth of the active frames go to the model. */
export const PROBE_STRIDE = 96;
/** Pauses shorter than this (frames) do not end a stretch for probing: phrases of one turn share its probes. */
const PROBE_BRIDGE = 32;
/** Windows per model call: 128 rows measured fastest per frame without growing latency per call past ~100 ms. */
export const BATCH = 128;
export const SPEECH_ON = 0.5;

export type VadModel = Pick<ModelSession, 'run'>;

export interface VadWindow {
  /** First frame (the warm-up starts here); frames before 0 read silence. */
  start: number;
  frames: number;
  warmup: number;
}

export interface VadResult {
  /** Speech probability per 32 ms frame, filled between scored frames; 0 where the level says silence. */
  prob: Float32Array;
  /** Frames the model actually scored, and model frame-steps run (warm-up included). */
  scored: number;
  modelFrames: number;
  activeFrames: number;
}

/** The session for the registry entry: the app's own copy (or the entry's URL) through the hash-checked cache, on WASM. */
export async function openSileroVad(meta: ModelMeta): Promise<ModelSession> {
  // WebGPU gave a different recurrent state for this model on the same input (MEASUREMENTS.md), and a
  // 32 ms frame is too small to gain from it: no self-check, WASM.
  // Imported here: pages that only need this module's constants do not load ORT and IndexedDB.
  const [{ openRegistryModel }, { DEFAULT_ML_ENV }] = await Promise.all([import('../../src/ml/registry-loader'), import('../../src/ml/model-runtime')]);
  const { session } = await openRegistryModel(meta, new URL('./silero_vad_v5_8k.onnx', import.meta.url).href, sileroVadCheckFeeds, { ml: { ...DEFAULT_ML_ENV, provider: 'wasm' } });
  return session;
}

/** A fixed input (two rows of a 220 Hz tone, zero state) for a device self-check and the registry test. */
export function sileroVadCheckFeeds(): Record<string, TensorData> {
  const rows = 2;
  const row = VAD_CONTEXT + VAD_FRAME;
  const input = new Float32Array(rows * row).map((_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * (i % row)) / VAD_RATE + Math.floor(i / row)));
  return { input: { type: 'float32', data: input, dims: [rows, row] }, state: { type: 'float32', data: new Float32Array(2 * rows * 128), dims: [2, rows, 128] } };
}

/**
 * Which 32 ms frames have anything to hear: the level contour's maximum (one value per `levelHopS`) above a gate
 * from the chunk's own noise floor.
 */
export function activeVadFrames(levelDb: Float32Array, frames: number, levelHopS: number): { active: Uint8Array; gateDb: number } {
  const sorted = Float32Array.from(levelDb).sort();
  const floor = sorted.length ? sorted[Math.floor(sorted.length * 0.05)] : -120;
  // Only obvious silence is skipped: the gate stays within −60…−45 dBFS, 8 dB over the floor where it can
  // (an encoder may zero a quiet room tone entirely, so the floor alone can sit far below anything audible).
  const gateDb = Math.min(Math.max(floor + 8, -60), -45);
  const active = new Uint8Array(frames);
  const per = VAD_FRAME_S / levelHopS;
  for (let k = 0; k < frames; k++) {
    const a = Math.floor(k * per);
    const b = Math.min(levelDb.length, Math.ceil((k + 1) * per));
    for (let i = a; i < b; i++) {
      if (levelDb[i] > gateDb) {
        active[k] = 1;
        break;
      }
    }
  }
  return { active, gateDb };
}

/** Runs of active frames, with gaps shorter than `bridge` frames (pauses inside speech) joined. */
export function activeRuns(active: Uint8Array, bridge = 8): [number, number][] {
  const runs: [number, number][] = [];
  let k = 0;
  while (k < active.length) {
    if (!active[k]) {
      k++;
      continue;
    }
    const a = k;
    let b = k;
    while (k < active.length) {
      if (active[k]) {
        b = ++k;
        continue;
      }
      let g = k;
      while (g < active.length && !active[g]) g++;
      if (g - k >= bridge || g >= active.length) break;
      k = g;
    }
    runs.push([a, b]);
    k = Math.max(k, b);
  }
  return runs;
}

/** Probe windows over active runs: one every `stride` frames, their scored parts starting at the run start. */
export function planProbes(runs: [number, number][], stride = PROBE_STRIDE): VadWindow[] {
  const scoredLen = WINDOW - WARMUP;
  const windows: VadWindow[] = [];
  for (const [a, b] of runs) {
    let lastStart = a;
    for (let s = a; s < b; s += stride) {
      windows.push({ start: s - WARMUP, frames: WINDOW, warmup: WARMUP });
      lastStart = s;
    }
    // A long run's end gets a probe too, so a change near it is bracketed.
    if (b - a > stride && b - (lastStart + scoredLen) > stride / 4) windows.push({ start: b - scoredLen - WARMUP, frames: WINDOW, warmup: WARMUP });
  }
  return windows;
}

/** Scores windows in batches (a row per window, state reset per window); prob[k] stays NaN where unscored. */
export async function scoreWindows(model: VadModel, x8: Float32Array, windows: VadWindow[], prob: Float32Array, batch = BATCH): Promise<number> {
  const row = VAD_CONTEXT + VAD_FRAME;
  let steps = 0;
  for (let b0 = 0; b0 < windows.length; b0 += batch) {
    const group = windows.slice(b0, b0 + batch);
    const rows = group.length;
    const frames = Math.max(...group.map((w) => w.frames));
    let state: TensorData = { type: 'float32', data: new Float32Array(2 * rows * 128), dims: [2, rows, 128] };
    for (let f = 0; f < frames; f++) {
      const input = new Float32Array(rows * row);
      for (let r = 0; r < rows; r++) {
        const from = (group[r].start + f) * VAD_FRAME - VAD_CONTEXT;
        const base = r * row;
        if (from >= 0 && from + row <= x8.length) input.set(x8.subarray(from, from + row), base);
        else for (let i = 0; i < row; i++) input[base + i] = x8[from + i] ?? 0;
      }
      const out = await model.run({ input: { type: 'float32', data: input, dims: [rows, row] }, state });
      state = out.stateN;
      const p = out.output.data as Float32Array;
      for (let r = 0; r < rows; r++) {
        const w = group[r];
        const k = w.start + f;
        if (f >= w.warmup && f < w.frames && k >= 0 && k < prob.length) prob[k] = p[r];
      }
      steps += rows;
    }
  }
  return steps;
}

/** Windows tiling the unscored frames between two scored stretches that disagree about speech. */
export function refinementWindows(prob: Float32Array, runs: [number, number][]): VadWindow[] {
  const scoredLen = WINDOW - WARMUP;
  const windows: VadWindow[] = [];
  for (const [a, b] of runs) {
    let prevEnd = -1;
    let prevSpeech = false;
    let k = a;
    while (k < b) {
      if (Number.isNaN(prob[k])) {
        k++;
        continue;
      }
      const s = k;
      let sum = 0;
      while (k < b && !Number.isNaN(prob[k])) sum += prob[k++];
      const speech = sum / (k - s) >= SPEECH_ON;
      if (prevEnd >= 0 && speech !== prevSpeech) {
        for (let g = prevEnd; g < s; g += scoredLen) windows.push({ start: g - WARMUP, frames: WINDOW, warmup: WARMUP });
      }
      prevEnd = k;
      prevSpeech = speech;
    }
  }
  return windows;
}

/**
 * Fills unscored active frames with the mean of the nearest scored stretch of the same run (a single frame is
 * too noisy to stand for seconds of audio); inactive frames get 0.
 */
export function fillProbabilities(prob: Float32Array, runs: [number, number][]): void {
  const inRun = new Uint8Array(prob.length);
  for (const [a, b] of runs) {
    inRun.fill(1, a, b);
    // Scored stretches of this run and their means.
    const stretches: { from: number; to: number; mean: number }[] = [];
    for (let k = a; k < b; ) {
      if (Number.isNaN(prob[k])) {
        k++;
        continue;
      }
      const from = k;
      let sum = 0;
      while (k < b && !Number.isNaN(prob[k])) sum += prob[k++];
      stretches.push({ from, to: k, mean: sum / (k - from) });
    }
    let s = 0;
    for (let k = a; k < b; k++) {
      if (!Number.isNaN(prob[k])) continue;
      while (s + 1 < stretches.length && stretches[s + 1].from <= k) s++;
      const before = stretches[s] && stretches[s].to <= k ? stretches[s] : null;
      const after = before ? stretches[s + 1] : stretches[s];
      const pick = !before ? after : !after ? before : k - before.to < after.from - k ? before : after;
      prob[k] = pick ? pick.mean : 0;
    }
  }
  for (let k = 0; k < prob.length; k++) if (!inRun[k]) prob[k] = 0;
}

/** Speech probability of a chunk at 8 kHz, scoring only what the level contour (dB per `levelHopS`) says may be speech. */
export async function speechProbability(model: VadModel, x8: Float32Array, levelDb: Float32Array, opts: { levelHopS: number; stride?: number }): Promise<VadResult> {
  const frames = Math.floor(x8.length / VAD_FRAME);
  const { active } = activeVadFrames(levelDb, frames, opts.levelHopS);
  const runs = activeRuns(active);
  const prob = new Float32Array(frames).fill(NaN);
  let modelFrames = await scoreWindows(model, x8, planProbes(activeRuns(active, PROBE_BRIDGE), opts.stride), prob);
  modelFrames += await scoreWindows(model, x8, refinementWindows(prob, runs), prob);
  let scored = 0;
  for (let k = 0; k < frames; k++) if (!Number.isNaN(prob[k])) scored++;
  fillProbabilities(prob, runs);
  let activeFrames = 0;
  for (const [a, b] of runs) activeFrames += b - a;
  return { prob, scored, modelFrames, activeFrames };
}

// basic-pitch's pre- and post-processing around any runtime that evaluates its graph: the track is framed exactly as
// @spotify/basic-pitch frames it (3840 zeros in front, 43844-sample windows every 36164 samples, the last one padded),
// the 15 overlapping frames at each window's ends are dropped, and the package's own note decoding
// (outputToNotesPoly, addPitchBendsToNoteEvents, noteFramesToTime, imported from it: they need no tfjs) makes the notes.
import { addPitchBendsToNoteEvents, noteFramesToTime, outputToNotesPoly } from '@spotify/basic-pitch/esm/toMidi.js';
import { CancelledError } from '../../src/shared/errors';
import type { ModelSession } from '../../src/ml/ort';
import type { TranscribedNote, TranscriptionSettings } from '../../src/shared/transcription';

export const SAMPLE_RATE = 22050;
const FFT_HOP = 256;
export const WINDOW_SAMPLES = SAMPLE_RATE * 2 - FFT_HOP;
const OVERLAP_FRAMES = 30;
const OVERLAP_SAMPLES = OVERLAP_FRAMES * FFT_HOP;
export const HOP_SAMPLES = WINDOW_SAMPLES - OVERLAP_SAMPLES;
export const FRAMES_PER_WINDOW = 172;
const KEEP_FRAMES = FRAMES_PER_WINDOW - OVERLAP_FRAMES;
export const FRAMES_PER_SECOND = Math.floor(SAMPLE_RATE / FFT_HOP);
export const KEYS = 88;
export const CONTOUR_BINS = 264;

/** The graph on a batch of windows: [count, 43844, 1] in, [count, 172, 88|264] out. */
export type BatchRun = (windows: Float32Array, count: number) => Promise<{ note: Float32Array; onset: Float32Array; contour: Float32Array }>;

/** The graph through an ORT session of models/basic-pitch/basic-pitch.onnx. */
export function sessionBatchRun(session: Pick<ModelSession, 'run'>): BatchRun {
  return async (windows, count) => {
    const out = await session.run({ audio: { type: 'float32', data: windows, dims: [count, WINDOW_SAMPLES, 1] } });
    const f = (name: string) => {
      const t = out[name];
      if (t?.type !== 'float32') throw new Error(`basic-pitch returned no float32 "${name}" output`);
      return t.data;
    };
    return { note: f('note'), onset: f('onset'), contour: f('contour') };
  };
}

/** Frame-by-key posteriors of a whole track (row-major, `frames` rows). */
export interface Posteriors {
  frames: number;
  note: Float32Array;
  onset: Float32Array;
  contour: Float32Array;
}

/** How many windows the package makes of `samples` samples (tf.signal.frame with padEnd). */
export function windowCount(samples: number): number {
  const padded = samples + OVERLAP_SAMPLES / 2;
  let count = 0;
  let start = 0;
  while (start < padded) {
    count++;
    start += HOP_SAMPLES;
  }
  return count;
}

/** Window `w` of the zero-led, zero-padded track. */
export function fillWindow(audio: Float32Array, w: number, out: Float32Array): void {
  const lead = OVERLAP_SAMPLES / 2;
  const start = w * HOP_SAMPLES - lead;
  out.fill(0);
  const from = Math.max(0, start);
  const to = Math.min(audio.length, start + WINDOW_SAMPLES);
  if (to > from) out.set(audio.subarray(from, to), from - start);
}

export async function trackPosteriors(
  audio: Float32Array,
  run: BatchRun,
  opts: { batch?: number; signal?: AbortSignal; onProgress?: (fraction: number) => void } = {},
): Promise<Posteriors> {
  const batch = Math.max(1, opts.batch ?? 4);
  const windows = windowCount(audio.length);
  const frames = Math.floor((audio.length * FRAMES_PER_SECOND) / SAMPLE_RATE);
  const note = new Float32Array(frames * KEYS);
  const onset = new Float32Array(frames * KEYS);
  const contour = new Float32Array(frames * CONTOUR_BINS);
  const input = new Float32Array(batch * WINDOW_SAMPLES);
  const copy = (src: Float32Array, dst: Float32Array, width: number, b: number, w: number) => {
    const first = w * KEEP_FRAMES;
    const take = Math.min(KEEP_FRAMES, frames - first);
    if (take <= 0) return;
    const from = (b * FRAMES_PER_WINDOW + OVERLAP_FRAMES / 2) * width;
    dst.set(src.subarray(from, from + take * width), first * width);
  };
  for (let w0 = 0; w0 < windows; w0 += batch) {
    if (opts.signal?.aborted) throw new CancelledError();
    const count = Math.min(batch, windows - w0);
    for (let b = 0; b < count; b++) fillWindow(audio, w0 + b, input.subarray(b * WINDOW_SAMPLES, (b + 1) * WINDOW_SAMPLES));
    const out = await run(count === batch ? input : input.subarray(0, count * WINDOW_SAMPLES), count);
    for (let b = 0; b < count; b++) {
      copy(out.note, note, KEYS, b, w0 + b);
      copy(out.onset, onset, KEYS, b, w0 + b);
      copy(out.contour, contour, CONTOUR_BINS, b, w0 + b);
    }
    opts.onProgress?.((w0 + count) / windows);
  }
  return { frames, note, onset, contour };
}

const rows = (data: Float32Array, frames: number, width: number): number[][] =>
  Array.from({ length: frames }, (_, i) => Array.from(data.subarray(i * width, (i + 1) * width)));

/** The package's decoding with the Python package's defaults (minimum note length rounded to frames as it does). */
export function notesFromPosteriors(p: Posteriors, s: TranscriptionSettings): TranscribedNote[] {
  if (p.frames < 2) return [];
  const minNoteFrames = Math.round((s.minNoteMs / 1000) * (SAMPLE_RATE / FFT_HOP));
  const events = outputToNotesPoly(rows(p.note, p.frames, KEYS), rows(p.onset, p.frames, KEYS), s.onsetThreshold, s.frameThreshold, minNoteFrames, true, s.maxHz, s.minHz, true);
  const bent = addPitchBendsToNoteEvents(rows(p.contour, p.frames, CONTOUR_BINS), events);
  return noteFramesToTime(bent)
    .map((n) => ({ pitch: n.pitchMidi, start: Math.max(0, n.startTimeSeconds), duration: n.durationSeconds, velocity: n.amplitude, bends: n.pitchBends }))
    .sort((a, b) => a.start - b.start || a.pitch - b.pitch);
}

// The loudness, true-peak and limiter loops on the WebAssembly kernels (src/dsp/kernels.ts), fed in bounded chunks
// through the kernels' streaming scratch area. Each is a drop-in twin of a TypeScript loop: the K-weighting and the
// limiter with the same arithmetic in the same order (identical results), the true-peak interpolator in single
// precision (within about 1e-6 of the double-precision loop). The callers pick one with activeDspKernels().
import { kWeightingCoefficients } from './k-weighting';
import type { DspKernels } from './kernels';

/** Samples per channel per kernel call: the chunks stay in the CPU's cache. */
const CHUNK = 8192;

// Fixed regions of the streaming scratch area (bytes from its start; it holds STREAM_SCRATCH_BYTES).
const KW_STATE = 0;
const KW_LEFT = 64;
const KW_RIGHT = KW_LEFT + CHUNK * 4;
const TP_TAPS = 80 * 1024;
const TP_WORK = 81 * 1024;
/** True-peak centres per call; the work area holds them plus 15 samples before and 16 after. */
export const TRUE_PEAK_CHUNK = 65536;
const TP_ENV = TP_WORK + (TRUE_PEAK_CHUNK + 64) * 4;
const LIM_STATE = 640 * 1024;
const LIM_MAX_LOOKAHEAD = 1000;
const LIM_ARRAYS = LIM_STATE + 24 + LIM_MAX_LOOKAHEAD * 8;

const f32 = (k: DspKernels, at: number, n: number) => k.f32(k.streamScratch + at, n);

/** KWeightingFilter for one or two channels at once; sumOfSquares returns the channels' summed energy. */
export class KernelKWeighting {
  readonly #k: DspKernels;
  readonly #coefficients: number[];
  readonly #state = new Float64Array(8);

  constructor(kernels: DspKernels, sampleRate: number) {
    this.#k = kernels;
    const { preFilter: p, rlbHighPass: h } = kWeightingCoefficients(sampleRate);
    this.#coefficients = [p.b0, p.b1, p.b2, p.a1, p.a2, h.a1, h.a2];
  }

  /** Filters [offset, offset + n) of left (and right, if given) and returns Σ y² over both. */
  sumOfSquares(left: Float32Array, right: Float32Array | null, offset: number, n: number): number {
    const k = this.#k;
    const x = k.exports;
    const [b0, b1, b2, a1, a2, h1, h2] = this.#coefficients;
    // Set on every call: the track analysis shares these globals and may run at another rate in between.
    x.setKWeighting(b0, b1, b2, a1, a2, h1, h2);
    const base = k.streamScratch;
    k.f64(base + KW_STATE, 8).set(this.#state);
    let energy = 0;
    for (let done = 0; done < n; done += CHUNK) {
      const m = Math.min(CHUNK, n - done);
      f32(k, KW_LEFT, m).set(left.subarray(offset + done, offset + done + m));
      if (right) f32(k, KW_RIGHT, m).set(right.subarray(offset + done, offset + done + m));
      // One chunk's sum added to the running one: for an exact match with KWeightingFilter, hops fit one chunk.
      energy += x.kWeightedEnergy(base + KW_LEFT, right ? base + KW_RIGHT : 0, m, base + KW_STATE, done + m >= n);
    }
    this.#state.set(k.f64(base + KW_STATE, 8));
    return energy;
  }
}

/** Largest hop (samples) whose energy KernelKWeighting sums in one kernel call, i.e. exactly as KWeightingFilter. */
export const EXACT_HOP_FRAMES = CHUNK;

let tapsLoaded: DspKernels | null = null;

/**
 * scanFourTimesThirtyTwoTaps on the kernels, in single precision: centres [from, to) of work (15 samples before, 16 after), folded taps
 * as foldedInterpolatorTaps(4, 32) gives them. With an envelope, each centre's own peak goes to envelope[c - offset];
 * without one, `withSamples` also counts the centres' own samples into the peak.
 */
export function kernelTruePeakFourByThirtyTwo(
  k: DspKernels,
  taps: { pairSum: Float64Array; pairDiff: Float64Array; middle: Float64Array },
  work: Float32Array,
  from: number,
  to: number,
  peak: number,
  envelope: Float32Array | null = null,
  envelopeOffset = 0,
  withSamples = false,
): number {
  const x = k.exports;
  const base = k.streamScratch;
  if (tapsLoaded !== k) {
    const t = k.f32(base + TP_TAPS, 48);
    t.set(taps.pairSum, 0);
    t.set(taps.pairDiff, 16);
    t.set(taps.middle, 32);
    tapsLoaded = k;
  }
  for (let start = from; start < to; start += TRUE_PEAK_CHUNK) {
    const end = Math.min(to, start + TRUE_PEAK_CHUNK);
    const m = end - start;
    f32(k, TP_WORK, m + 31).set(work.subarray(start - 15, end + 16));
    if (envelope) {
      const env = envelope.subarray(start - envelopeOffset, end - envelopeOffset);
      f32(k, TP_ENV, m).set(env);
      x.truePeakFourByThirtyTwo(base + TP_WORK, 15, 15 + m, base + TP_TAPS, peak, base + TP_ENV);
      env.set(f32(k, TP_ENV, m));
    } else {
      // The samples themselves (phase 0) from the same copy, when the caller has not counted them.
      if (withSamples) peak = x.absPeak(base + TP_WORK + 15 * 4, m, peak);
      peak = x.truePeakFourByThirtyTwo(base + TP_WORK, 15, 15 + m, base + TP_TAPS, peak, 0);
    }
  }
  return peak;
}

/** limitWithLookahead's loop on the kernels; same arguments, same result. */
export function kernelLimitWithLookahead(
  k: DspKernels,
  left: Float32Array,
  right: Float32Array,
  env: Float32Array,
  ahead: Float32Array,
  gain: number,
  ceiling: number,
  aR: number,
  la: number,
  into?: { left: Float32Array; right: Float32Array },
): { left: Float32Array; right: Float32Array } | null {
  if (la > LIM_MAX_LOOKAHEAD) return null;
  const x = k.exports;
  const base = k.streamScratch;
  const n = left.length;
  const outL = into?.left ?? new Float32Array(n);
  const outR = into?.right ?? new Float32Array(n);
  const state = k.f64(base + LIM_STATE, 3 + la);
  state[0] = 1;
  state[1] = la;
  state[2] = 0;
  state.fill(1, 3);
  const at = (i: number) => base + LIM_ARRAYS + i * CHUNK * 4;
  for (let start = 0; start < n; start += CHUNK) {
    const m = Math.min(CHUNK, n - start);
    f32(k, LIM_ARRAYS - 0, m).set(left.subarray(start, start + m));
    f32(k, LIM_ARRAYS + CHUNK * 4, m).set(right.subarray(start, start + m));
    f32(k, LIM_ARRAYS + 2 * CHUNK * 4, m).set(env.subarray(start, start + m));
    f32(k, LIM_ARRAYS + 3 * CHUNK * 4, m).set(ahead.subarray(start, start + m));
    x.limitLookahead(at(0), at(1), at(2), at(3), at(4), at(5), m, gain, ceiling, aR, la, base + LIM_STATE);
    outL.set(f32(k, LIM_ARRAYS + 4 * CHUNK * 4, m), start);
    outR.set(f32(k, LIM_ARRAYS + 5 * CHUNK * 4, m), start);
  }
  return { left: outL, right: outR };
}

/** samplePeak on the kernels: the largest |sample| of the channels (NaN samples are not expected here). */
export function kernelSamplePeak(k: DspKernels, channels: Float32Array[]): number {
  let peak = 0;
  const at = k.streamScratch + TP_WORK;
  for (const ch of channels) {
    for (let start = 0; start < ch.length; start += TRUE_PEAK_CHUNK) {
      const m = Math.min(TRUE_PEAK_CHUNK, ch.length - start);
      f32(k, TP_WORK, m).set(ch.subarray(start, start + m));
      peak = k.exports.absPeak(at, m, peak);
    }
  }
  return peak;
}

/** sanitizeSamples on the kernels: NaN and ±Infinity become 0 in place; only chunks that had any are written back. */
export function kernelSanitize(k: DspKernels, ch: Float32Array): number {
  let replaced = 0;
  const at = k.streamScratch + TP_WORK;
  for (let start = 0; start < ch.length; start += TRUE_PEAK_CHUNK) {
    const m = Math.min(TRUE_PEAK_CHUNK, ch.length - start);
    const chunk = ch.subarray(start, start + m);
    f32(k, TP_WORK, m).set(chunk);
    const bad = k.exports.zeroNonFinite(at, m);
    if (bad > 0) {
      chunk.set(f32(k, TP_WORK, m));
      replaced += bad;
    }
  }
  return replaced;
}

/** computePeaks' min/max pairs on the kernels (the same values: a min and a max are exact). */
export function kernelComputePeaks(k: DspKernels, channels: Float32Array[], bins: number, binRange: (b: number) => [number, number]): Float32Array {
  const peaks = new Float32Array(bins * 2);
  for (let b = 0; b < bins; b++) {
    peaks[2 * b] = Infinity;
    peaks[2 * b + 1] = -Infinity;
  }
  const at = k.streamScratch + TP_WORK;
  const out = k.streamScratch + KW_STATE;
  const result = f32(k, KW_STATE, 2);
  for (const ch of channels) {
    let chunkStart = 0;
    let chunkEnd = 0;
    for (let b = 0; b < bins; b++) {
      const [from, to] = binRange(b);
      const end = Math.min(to, ch.length);
      if (end <= from) break;
      if (end > chunkEnd || from < chunkStart) {
        chunkStart = from;
        chunkEnd = Math.min(ch.length, from + TRUE_PEAK_CHUNK);
        f32(k, TP_WORK, chunkEnd - chunkStart).set(ch.subarray(chunkStart, chunkEnd));
      }
      k.exports.minMax(at + (from - chunkStart) * 4, end - from, out);
      if (result[0] < peaks[2 * b]) peaks[2 * b] = result[0];
      if (result[1] > peaks[2 * b + 1]) peaks[2 * b + 1] = result[1];
    }
  }
  for (let i = 0; i < peaks.length; i++) if (!Number.isFinite(peaks[i])) peaks[i] = 0;
  return peaks;
}

/** Σ (l² + r²) and the peak |sample| of a stereo signal, on the kernels. */
export function kernelLevels(k: DspKernels, left: Float32Array, right: Float32Array): { sumSquares: number; peak: number } {
  let sumSquares = 0;
  let peak = 0;
  const out = k.f64(k.streamScratch + KW_STATE, 2);
  for (let start = 0; start < left.length; start += TRUE_PEAK_CHUNK) {
    const m = Math.min(TRUE_PEAK_CHUNK, left.length - start);
    f32(k, TP_WORK, m).set(left.subarray(start, start + m));
    f32(k, TP_ENV, m).set(right.subarray(start, start + m));
    k.exports.levels(k.streamScratch + TP_WORK, k.streamScratch + TP_ENV, m, k.streamScratch + KW_STATE);
    sumSquares += out[0];
    if (out[1] > peak) peak = out[1];
  }
  return { sumSquares, peak };
}

/** max |x| over each `block` samples of x (the last block may be short), on the kernels. */
export function kernelBlockAbsMaxima(k: DspKernels, x: Float32Array, block: number): Float32Array {
  const blocks = Math.ceil(x.length / block);
  const out = new Float32Array(blocks);
  // Whole blocks per chunk, so no block straddles two.
  const chunk = Math.floor(TRUE_PEAK_CHUNK / block) * block;
  const at = k.streamScratch + TP_WORK;
  const peaks = k.streamScratch + TP_ENV;
  for (let start = 0; start < x.length; start += chunk) {
    const m = Math.min(chunk, x.length - start);
    f32(k, TP_WORK, m).set(x.subarray(start, start + m));
    k.exports.blockPeaks(at, at, m, block, peaks);
    out.set(f32(k, TP_ENV, Math.ceil(m / block)), start / block);
  }
  return out;
}

/** slidingMaxRange on the kernels: out[i] = max src[i − before … i + after] for i in [from, to); the same values. */
export function kernelSlidingMaxRange(k: DspKernels, src: Float32Array, before: number, after: number, out: Float32Array, from: number, to: number): boolean {
  const n = src.length;
  const chunk = TRUE_PEAK_CHUNK - before - after;
  if (chunk < 1024) return false;
  const srcAt = k.streamScratch + TP_WORK;
  const outAt = k.streamScratch + TP_ENV;
  for (let a = from; a < to; a += chunk) {
    const b = Math.min(to, a + chunk);
    const lo = Math.max(0, a - before);
    const hi = Math.min(n, b + after);
    f32(k, TP_WORK, hi - lo).set(src.subarray(lo, hi));
    // Base pointers shifted so the kernel indexes by absolute sample (wasm addresses wrap like the i32 they are).
    k.exports.slidingMaxRange(srcAt - lo * 4, n, before, after, outAt - a * 4, a, b, k.streamScratch + KW_LEFT);
    out.set(f32(k, TP_ENV, b - a), a);
  }
  return true;
}

// Waveform overview data and input hygiene for decoded audio.
import { activeDspKernels, type DspKernels } from './kernels';
import { kernelComputePeaks, kernelSanitize } from './kernel-streams';
import { isPcm16, PCM16_STEP, type TrackChannels } from '../shared/session';

/** The bins of computePeaks over `frames` frames: bin b covers frames range(b) = [from, to). */
function peakBins(frames: number, sampleRate: number, perSecond: number): { bins: number; range: (b: number) => [number, number] } {
  if (frames === 0 || !(perSecond > 0) || !(sampleRate > 0)) return { bins: 0, range: () => [0, 0] };
  const framesPerBin = sampleRate / perSecond;
  return {
    bins: Math.ceil(frames / framesPerBin),
    // `| 0` keeps the loop indices small integers: as doubles they make every sample read slower (~1.5× measured).
    range: (b) => {
      const from = Math.floor(b * framesPerBin) | 0;
      return [from, Math.min(frames, Math.max(from + 1, Math.floor((b + 1) * framesPerBin))) | 0];
    },
  };
}

/**
 * Min/max pairs [min0, max0, min1, max1, …] across all channels, perSecond pairs per second of
 * audio; the last pair covers the remaining partial bin.
 */
export function computePeaks(channels: TrackChannels, sampleRate: number, perSecond: number): Float32Array {
  const frames = channels.reduce((m, ch) => Math.max(m, ch.length), 0);
  const { bins, range } = peakBins(frames, sampleRate, perSecond);
  if (bins === 0) return new Float32Array(0);
  const kernels = activeDspKernels();
  if (kernels && !isPcm16(channels)) return kernelComputePeaks(kernels, channels, bins, range);
  // 16-bit channels are scanned as integers and the extremes scaled: the same pairs as over their floats.
  const scale = isPcm16(channels) ? PCM16_STEP : 1;
  const peaks = new Float32Array(bins * 2);
  for (let b = 0; b < bins; b++) {
    const [from, to] = range(b);
    let min = Infinity;
    let max = -Infinity;
    for (const ch of channels) {
      const end = Math.min(to, ch.length);
      for (let i = from; i < end; i++) {
        const x = ch[i];
        if (x < min) min = x;
        if (x > max) max = x;
      }
    }
    peaks[2 * b] = min === Infinity ? 0 : min * scale;
    peaks[2 * b + 1] = max === -Infinity ? 0 : max * scale;
  }
  return peaks;
}

/**
 * computePeaks of 16-bit audio read piece by piece as interleaved integers (an imported WAV), each piece scanned as it
 * arrives, on the SIMD kernels where given: the same pairs as computePeaks over the whole planar channels.
 */
export class Pcm16Peaks {
  readonly #channels: number;
  readonly #bins: number;
  readonly #range: (b: number) => [number, number];
  readonly #lo: Int32Array;
  readonly #hi: Int32Array;
  readonly #kernels: DspKernels | undefined;
  #bin = 0;

  constructor(frames: number, channels: number, sampleRate: number, perSecond: number, kernels?: DspKernels) {
    const { bins, range } = peakBins(frames, sampleRate, perSecond);
    this.#channels = channels;
    this.#bins = bins;
    this.#range = range;
    this.#lo = new Int32Array(bins).fill(32767);
    this.#hi = new Int32Array(bins).fill(-32768);
    this.#kernels = kernels;
  }

  /** The interleaved frames of `pcm`, which start at frame `at`; pieces come in order. */
  add(pcm: Int16Array, at: number): void {
    const c = this.#channels;
    const end = at + pcm.length / c;
    const k = this.#kernels;
    let src = 0;
    let out = 0;
    if (k) {
      [src, out] = k.layout([pcm.length * 2, 8]);
      new Int16Array(k.exports.memory.buffer, src, pcm.length).set(pcm);
    }
    // The bin holding `at` is the last one the piece before reached (or the one after it).
    while (this.#bin < this.#bins && this.#range(this.#bin)[1] <= at) this.#bin++;
    for (let b = this.#bin; b < this.#bins; b++) {
      const [from, to] = this.#range(b);
      if (from >= end) break;
      const i = (Math.max(from, at) - at) * c;
      const n = (Math.min(to, end) - at) * c - i;
      let lo: number;
      let hi: number;
      if (k) {
        k.exports.minMax16(src + 2 * i, n, out);
        const r = new Int32Array(k.exports.memory.buffer, out, 2);
        lo = r[0];
        hi = r[1];
      } else {
        lo = 32767;
        hi = -32768;
        for (let j = i; j < i + n; j++) {
          const x = pcm[j];
          if (x < lo) lo = x;
          if (x > hi) hi = x;
        }
      }
      if (lo < this.#lo[b]) this.#lo[b] = lo;
      if (hi > this.#hi[b]) this.#hi[b] = hi;
    }
  }

  /** The pairs, as computePeaks gives them. */
  finish(): Float32Array {
    const peaks = new Float32Array(this.#bins * 2);
    for (let b = 0; b < this.#bins; b++) {
      // A bin no piece reached (the file ended early) is silence, as computePeaks has it.
      const empty = this.#lo[b] > this.#hi[b];
      peaks[2 * b] = empty ? 0 : this.#lo[b] * PCM16_STEP;
      peaks[2 * b + 1] = empty ? 0 : this.#hi[b] * PCM16_STEP;
    }
    return peaks;
  }
}

/** Replaces NaN and ±Infinity with 0 in place; returns how many samples were replaced. */
export function sanitizeSamples(ch: Float32Array): number {
  const kernels = activeDspKernels();
  if (kernels) return kernelSanitize(kernels, ch);
  let replaced = 0;
  for (let i = 0; i < ch.length; i++) {
    const x = ch[i];
    // x - x is 0 for every finite number and NaN for NaN and ±Infinity.
    if (x - x !== 0) {
      ch[i] = 0;
      replaced++;
    }
  }
  return replaced;
}

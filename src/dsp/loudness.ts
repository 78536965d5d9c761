// Programme loudness per ITU-R BS.1770-4 / EBU R128 (Tech 3341 meters, Tech 3342 loudness range).
import { CancelledError } from '../shared/errors';
import type { LoudnessReport } from '../shared/mastering';
import { KWeightingFilter, loudnessFromMeanSquare, LOUDNESS_OFFSET_DB } from './k-weighting';
import { amplitudeToDb, samplePeak, TruePeakDetector } from './true-peak';
import { activeDspKernels } from './kernels';
import { EXACT_HOP_FRAMES, KernelKWeighting } from './kernel-streams';

export type { LoudnessReport };

export interface LoudnessOptions {
  /** An AbortSignal; typed structurally because src/dsp compiles without the DOM lib. */
  signal?: { readonly aborted: boolean };
  /** Called with the measured fraction (0…1) about once per second of audio and at the end. */
  onProgress?: (fraction: number) => void;
  /** Per-channel BS.1770 weights; defaults to channelWeightsFor(channels.length). */
  channelWeights?: readonly number[];
}

/** Gating blocks and meter readings advance every 100 ms. */
const HOPS_PER_SECOND = 10;
const MOMENTARY_HOPS = 4;
const SHORT_TERM_HOPS = 30;
const ABSOLUTE_GATE_LUFS = -70;
const INTEGRATED_RELATIVE_GATE_LU = -10;
const RANGE_RELATIVE_GATE_LU = -20;
const RANGE_LOW_PERCENTILE = 0.1;
const RANGE_HIGH_PERCENTILE = 0.95;
const SURROUND_WEIGHT = 1.41;
/** Hops per abort check and progress report. */
const HOPS_PER_CHUNK = 10;

/**
 * BS.1770 channel weights: 1.0 for L, R, C; 1.41 for Ls, Rs in 5.0 (L R C Ls Rs); in 5.1
 * (L R C LFE Ls Rs, WAV order) the LFE is excluded; every other layout weighs all channels 1.0.
 */
export function channelWeightsFor(channelCount: number): number[] {
  if (channelCount === 5) return [1, 1, 1, SURROUND_WEIGHT, SURROUND_WEIGHT];
  if (channelCount === 6) return [1, 1, 1, 0, SURROUND_WEIGHT, SURROUND_WEIGHT];
  return new Array<number>(channelCount).fill(1);
}

/** Loudness (integrated, range, momentary and short-term series) plus sample and true peak. */
export function measureLoudness(channels: Float32Array[], sampleRate: number, opts: LoudnessOptions = {}): LoudnessReport {
  return analyse(channels, sampleRate, opts, true);
}

/** measureLoudness without the sample and true peak (NaN), for loops that need the peaks only now and then. */
export function measureLoudnessWithoutPeaks(channels: Float32Array[], sampleRate: number, opts: LoudnessOptions = {}): LoudnessReport {
  return analyse(channels, sampleRate, opts, false);
}

/**
 * Integrated loudness alone (no true peak), for loops that re-measure after each gain change;
 * about 5× cheaper than measureLoudness on dense material.
 */
export function integratedLoudness(channels: Float32Array[], sampleRate: number, opts: LoudnessOptions = {}): number {
  return analyse(channels, sampleRate, opts, false).integratedLufs;
}

/** The meter's windows as channel-weighted K-weighted mean squares, one per 100 ms hop, with no true peak. */
export interface LoudnessPowers {
  integratedLufs: number;
  /** 400 ms window ending at each hop; hop i ends at (i + 1) × 100 ms. */
  momentaryPower: Float64Array;
  /** 3 s window ending at each hop. */
  shortTermPower: Float64Array;
}

/** The meter's 100 ms hops over `frames` frames: hop k covers [start(k), start(k + 1)); a partial hop at the end is left out. */
export interface MeterHops {
  count: number;
  start: (k: number) => number;
}

export function meterHops(frames: number, sampleRate: number): MeterHops {
  if (!(sampleRate > 0)) throw new RangeError(`Sample rate must be positive, got ${sampleRate}`);
  // Hop boundaries are rounded from exact times so rates without a whole-sample 100 ms stay on time.
  const start = (k: number): number => Math.round((k * sampleRate) / HOPS_PER_SECOND);
  let count = Math.floor((frames * HOPS_PER_SECOND) / sampleRate) + 1;
  while (count > 0 && start(count) > frames) count--;
  return { count, start };
}

/**
 * Integrated loudness and the momentary/short-term series as powers, for analysis that gates on them, from the
 * channel-weighted K-weighted energy of each of meterHops' hops: the caller runs the K-weighting in its own pass.
 */
export function loudnessPowersFromHops(hopEnergy: Float64Array, hops: MeterHops): LoudnessPowers {
  if (hopEnergy.length !== hops.count) throw new RangeError(`Got ${hopEnergy.length} hop energies for ${hops.count} hops`);
  const { momentaryPower, shortTermPower } = windowPowers(hopEnergy, hops);
  return { integratedLufs: gatedLoudness(momentaryPower.subarray(MOMENTARY_HOPS - 1)), momentaryPower, shortTermPower };
}

function analyse(channels: Float32Array[], sampleRate: number, opts: LoudnessOptions, withTruePeak: boolean): LoudnessReport {
  const { momentaryPower, shortTermPower, peak, samplePeakLinear } = measurePowers(channels, sampleRate, opts, withTruePeak);
  const report: LoudnessReport = {
    integratedLufs: gatedLoudness(momentaryPower.subarray(MOMENTARY_HOPS - 1)),
    loudnessRangeLu: loudnessRange(shortTermPower.subarray(SHORT_TERM_HOPS - 1)),
    maxMomentaryLufs: loudnessFromMeanSquare(max(momentaryPower)),
    maxShortTermLufs: loudnessFromMeanSquare(max(shortTermPower)),
    momentary: toLufs(momentaryPower),
    shortTerm: toLufs(shortTermPower),
    truePeakDb: withTruePeak ? amplitudeToDb(peak) : NaN,
    samplePeakDb: withTruePeak ? amplitudeToDb(samplePeakLinear) : NaN,
  };
  opts.onProgress?.(1);
  return report;
}

function measurePowers(
  channels: Float32Array[],
  sampleRate: number,
  opts: LoudnessOptions,
  withTruePeak: boolean,
): { momentaryPower: Float64Array; shortTermPower: Float64Array; peak: number; samplePeakLinear: number } {
  if (!(sampleRate > 0)) throw new RangeError(`Sample rate must be positive, got ${sampleRate}`);
  if (channels.length === 0) throw new RangeError('Loudness needs at least one channel');
  const frames = channels[0].length;
  if (channels.some((ch) => ch.length !== frames)) throw new RangeError('All channels must have the same length');
  const weights = opts.channelWeights ?? channelWeightsFor(channels.length);
  if (weights.length !== channels.length) {
    throw new RangeError(`Got ${weights.length} channel weights for ${channels.length} channels`);
  }
  const { signal, onProgress } = opts;
  if (signal?.aborted) throw new CancelledError('Loudness measurement cancelled');

  const meter = meterHops(frames, sampleRate);
  const { count: hops, start: hopStart } = meter;

  const filters = channels.map(() => new KWeightingFilter(sampleRate));
  // Mono or stereo at unit weights (nearly everything) runs on the kernels when a worker has them: same sums.
  const kernels = activeDspKernels();
  const onKernels =
    kernels && channels.length <= 2 && weights.every((w) => w === 1) && hopStart(1) < EXACT_HOP_FRAMES ? new KernelKWeighting(kernels, sampleRate) : null;
  const detectors = withTruePeak ? channels.map(() => new TruePeakDetector(sampleRate)) : [];
  const hopEnergy = new Float64Array(hops);
  let peak = withTruePeak ? samplePeak(channels) : 0;
  const samplePeakLinear = peak;

  for (let chunk = 0; chunk * HOPS_PER_CHUNK < Math.max(hops, 1); chunk++) {
    if (signal?.aborted) throw new CancelledError('Loudness measurement cancelled');
    const firstHop = chunk * HOPS_PER_CHUNK;
    const endHop = Math.min(hops, firstHop + HOPS_PER_CHUNK);
    for (let k = firstHop; k < endHop; k++) {
      const from = hopStart(k);
      const n = hopStart(k + 1) - from;
      let energy = 0;
      if (onKernels) {
        energy = onKernels.sumOfSquares(channels[0], channels.length > 1 ? channels[1] : null, from, n);
      } else {
        for (let c = 0; c < channels.length; c++) {
          if (weights[c] !== 0) energy += weights[c] * filters[c].sumOfSquares(channels[c], from, n);
        }
      }
      hopEnergy[k] = energy;
    }
    if (withTruePeak) {
      // The last chunk also takes the partial hop at the end: every sample counts for peaks.
      const from = hopStart(firstHop);
      const to = endHop >= hops ? frames : hopStart(endHop);
      for (let c = 0; c < channels.length; c++) peak = detectors[c].process(channels[c].subarray(from, to), peak);
    }
    const done = endHop >= hops ? 1 : hopStart(endHop) / frames;
    if (onProgress && done < 1) onProgress(done);
  }
  for (const d of detectors) peak = d.flush(peak);
  return { ...windowPowers(hopEnergy, meter), peak, samplePeakLinear };
}

/** The momentary (400 ms) and short-term (3 s) mean squares ending at each hop, from the hops' energies. */
function windowPowers(hopEnergy: Float64Array, meter: MeterHops): { momentaryPower: Float64Array; shortTermPower: Float64Array } {
  const { count: hops, start: hopStart } = meter;
  // Running sums of weighted K-weighted energy (and of non-silent hops) to the start of each hop,
  // so any window is one subtraction and digital silence stays exactly -Infinity.
  const energyBefore = new Float64Array(hops + 1);
  const audibleBefore = new Int32Array(hops + 1);
  for (let k = 0; k < hops; k++) {
    energyBefore[k + 1] = energyBefore[k] + hopEnergy[k];
    audibleBefore[k + 1] = audibleBefore[k] + (hopEnergy[k] > 0 ? 1 : 0);
  }

  const windowEnergy = (endHop: number, length: number): number => {
    const startHop = Math.max(0, endHop - length);
    if (audibleBefore[endHop] === audibleBefore[startHop]) return 0;
    const sum = energyBefore[endHop] - energyBefore[startHop];
    // Far into a loud programme the subtraction can cancel a quiet window; re-sum only that one.
    if (sum > energyBefore[endHop] * 1e-9) return sum;
    let exact = 0;
    for (let k = startHop; k < endHop; k++) exact += hopEnergy[k];
    return exact;
  };
  // Before a window has filled, the missing part counts as silence, as on a meter started at 0.
  const meanSquares = (length: number): Float64Array => {
    const out = new Float64Array(hops);
    const nominalFrames = hopStart(length);
    for (let k = 1; k <= hops; k++) {
      const windowFrames = k >= length ? hopStart(k) - hopStart(k - length) : nominalFrames;
      out[k - 1] = windowEnergy(k, length) / windowFrames;
    }
    return out;
  };
  return { momentaryPower: meanSquares(MOMENTARY_HOPS), shortTermPower: meanSquares(SHORT_TERM_HOPS) };
}

function powerOfLoudness(lufs: number): number {
  return Math.pow(10, (lufs - LOUDNESS_OFFSET_DB) / 10);
}

/** BS.1770-4 gating over 400 ms blocks at a 100 ms hop: absolute −70 LUFS, then relative −10 LU. */
function gatedLoudness(blockPower: Float64Array): number {
  const absolute = powerOfLoudness(ABSOLUTE_GATE_LUFS);
  let sum = 0;
  let count = 0;
  for (const z of blockPower) {
    if (z > absolute) {
      sum += z;
      count++;
    }
  }
  if (count === 0) return -Infinity;
  const relative = (sum / count) * Math.pow(10, INTEGRATED_RELATIVE_GATE_LU / 10);
  const threshold = Math.max(absolute, relative);
  sum = 0;
  count = 0;
  for (const z of blockPower) {
    if (z > threshold) {
      sum += z;
      count++;
    }
  }
  return count === 0 ? -Infinity : loudnessFromMeanSquare(sum / count);
}

/** EBU Tech 3342: short-term values gated at −70 LUFS and −20 LU, 95th minus 10th percentile. */
function loudnessRange(shortTermPower: Float64Array): number {
  const absolute = powerOfLoudness(ABSOLUTE_GATE_LUFS);
  let sum = 0;
  let count = 0;
  for (const z of shortTermPower) {
    if (z > absolute) {
      sum += z;
      count++;
    }
  }
  if (count === 0) return 0;
  const threshold = Math.max(absolute, (sum / count) * Math.pow(10, RANGE_RELATIVE_GATE_LU / 10));
  const gated: number[] = [];
  for (const z of shortTermPower) if (z > threshold) gated.push(z);
  if (gated.length === 0) return 0;
  // Loudness is monotonic in power, so percentiles can be taken on powers and converted after.
  const sorted = Float64Array.from(gated).sort();
  const at = (p: number): number => sorted[Math.round((sorted.length - 1) * p)];
  return loudnessFromMeanSquare(at(RANGE_HIGH_PERCENTILE)) - loudnessFromMeanSquare(at(RANGE_LOW_PERCENTILE));
}

function max(values: Float64Array): number {
  let m = 0;
  for (const v of values) if (v > m) m = v;
  return m;
}

function toLufs(power: Float64Array): Float32Array {
  const out = new Float32Array(power.length);
  for (let i = 0; i < power.length; i++) out[i] = loudnessFromMeanSquare(power[i]);
  return out;
}

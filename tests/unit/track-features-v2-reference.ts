// The track analysis of TRACK_FEATURES_VERSION 2 exactly as mixnet's training features were computed, frozen:
// analyseTrack with the loudness series, K-weighting, STFT framing and fft.js power it called then, copied here so
// faster rewrites of src/dsp/track-features.ts can be held to the same numbers. Only resample(), the mel filterbank
// and the K-weighting coefficients are imported (the copy calls them as the original did). Not for production use.
import FFT from 'fft.js';
import { CancelledError } from '../../src/shared/errors';
import { FEATURE_BANDS_HZ, SPECTROGRAM, type TrackFeatures } from '../../src/shared/features';
import { kWeightingCoefficients, loudnessFromMeanSquare, LOUDNESS_OFFSET_DB, type KWeightingCoefficients } from '../../src/dsp/k-weighting';
import { applyMelFrame, melFilterbank, MEL_FLOOR_DB, powerToDb } from '../../src/dsp/mel';
import { resample } from '../../src/dsp/resample';

/** The FFT the reference calls: the interface src/dsp/stft.ts had (a PowerFft from there still fits). */
export interface ReferencePowerFft {
  readonly size: number;
  power(windowed: Float64Array, out: Float32Array, edge: number, inner: number): void;
}

/** Bump when any feature's definition changes: cached features of older versions are recomputed. */
const TRACK_FEATURES_VERSION = 2;

/** Momentary loudness above which a 100 ms block counts as the track playing. */
const ACTIVE_MOMENTARY_LUFS = -50;
/** Finite stand-ins for the log of silence. */
const SILENT_LUFS = -70;
const SILENT_DB = -120;
const SILENT_POWER = Math.pow(10, SILENT_DB / 10);
const MAX_STEREO_WIDTH = 100;
const TILT_LOW_HZ = 50;
/** Below the passband edges of the half-band (~9.8 kHz) and resample() (10.4 kHz), so no roll-off bends the fit. */
const TILT_HIGH_HZ = 8_000;

const BLOCKS_PER_SECOND = 10;
const MOMENTARY_BLOCKS = 4;
const SHORT_TERM_BLOCKS = 30;
/** Momentary (4 blocks) and short-term (30 blocks) windows end this many blocks after the block they centre on. */
const MOMENTARY_CENTRE_LAG = 2;
const SHORT_TERM_CENTRE_LAG = 15;

export interface AnalyseTrackOptions {
  /** An AbortSignal; typed structurally because src/dsp compiles without the DOM lib. */
  signal?: { readonly aborted: boolean };
  /** Fraction done (0…1) after each stage. */
  onProgress?: (fraction: number) => void;
  /** The STFT's FFT (SPECTROGRAM.fftSize points): fft.js when absent; the analysis worker loads PFFFT. */
  fft?: ReferencePowerFft;
}

/** The features of one track (planar channels, 1 or 2 expected; more are downmixed, the first two give the stereo image). */
export function referenceAnalyseTrack(channels: Float32Array[], sampleRate: number, opts: AnalyseTrackOptions = {}): TrackFeatures {
  if (channels.length === 0) throw new RangeError('A track needs at least one channel');
  const frames = channels[0].length;
  if (channels.some((ch) => ch.length !== frames)) throw new RangeError('All channels must have the same length');
  const { signal, onProgress } = opts;
  const checkAbort = (): void => {
    if (signal?.aborted) throw new CancelledError('Track analysis cancelled');
  };
  checkAbort();

  // measureLoudness's series without its true peak: oversampling would cost ~20× the K-weighting.
  const { integratedLufs, momentaryPower, shortTermPower } = loudnessPowers(channels, sampleRate, { signal });
  const loudness = { integratedLufs, momentary: momentaryPower, shortTerm: shortTermPower };
  onProgress?.(0.3);
  const blocks = loudness.momentary.length;
  const blockStart = (k: number): number => Math.min(frames, Math.round((k * sampleRate) / BLOCKS_PER_SECOND));

  const activeThreshold = powerOfLoudness(ACTIVE_MOMENTARY_LUFS);
  const active = new Uint8Array(blocks);
  let activeBlocks = 0;
  for (let k = 0; k < blocks; k++) {
    if (loudness.momentary[centredWindow(k, MOMENTARY_CENTRE_LAG, MOMENTARY_BLOCKS, blocks)] > activeThreshold) {
      active[k] = 1;
      activeBlocks++;
    }
  }
  // A quiet but audible track is still described, over all of it, rather than by silence defaults.
  const useAll = activeBlocks === 0;
  const counts = (k: number): boolean => useAll || active[k] === 1;

  const shortTerm: number[] = [];
  for (let k = 0; k < blocks; k++) {
    const power = loudness.shortTerm[centredWindow(k, SHORT_TERM_CENTRE_LAG, SHORT_TERM_BLOCKS, blocks)];
    if (counts(k) && power > 0) shortTerm.push(power);
  }
  // Loudness is monotonic in power, so percentiles are taken on powers and converted after.
  shortTerm.sort((a, b) => a - b);
  const percentile = (p: number): number => (shortTerm.length ? loudnessFromMeanSquare(shortTerm[Math.round((shortTerm.length - 1) * p)]) : SILENT_LUFS);

  const level = levelAndImage(channels, blocks, blockStart, counts);
  checkAbort();
  onProgress?.(0.4);

  const spectral = spectralFeatures(channels, sampleRate, blocks, counts, signal, opts.fft);
  onProgress?.(1);

  return {
    version: TRACK_FEATURES_VERSION,
    integratedLufs: loudness.integratedLufs,
    shortTermP10: percentile(0.1),
    shortTermP50: percentile(0.5),
    shortTermP95: percentile(0.95),
    peakDb: level.peak > 0 ? Math.max(SILENT_DB, 20 * Math.log10(level.peak)) : SILENT_DB,
    crestDb: level.activePeak > 0 && level.activeMeanSquare > 0 ? 20 * Math.log10(level.activePeak) - 10 * Math.log10(level.activeMeanSquare) : 0,
    spectralCentroidHz: spectral.centroidHz,
    spectralTiltDbPerOctave: spectral.tiltDbPerOctave,
    bandEnergiesDb: spectral.bandEnergiesDb,
    stereoWidth: level.width,
    stereoCorrelation: level.correlation,
    stereoBalance: level.balance,
    activity: blocks > 0 ? activeBlocks / blocks : 0,
    melMeanDb: spectral.melMeanDb,
  };
}

/** Index of the window centred on block k; near the start, the first full window (a meter's warm-up is not the track). */
function centredWindow(k: number, lag: number, length: number, blocks: number): number {
  return Math.max(0, Math.min(blocks - 1, Math.max(k + lag, length - 1)));
}

function powerOfLoudness(lufs: number): number {
  return Math.pow(10, (lufs - LOUDNESS_OFFSET_DB) / 10);
}

interface LevelAndImage {
  peak: number;
  activePeak: number;
  activeMeanSquare: number;
  width: number;
  correlation: number;
  balance: number;
}

/** Peaks, RMS and the L/R sums of the stereo image, in one pass over the original channels. */
function levelAndImage(channels: Float32Array[], blocks: number, blockStart: (k: number) => number, counts: (k: number) => boolean): LevelAndImage {
  const stereo = channels.length >= 2;
  const left = channels[0];
  const right = stereo ? channels[1] : channels[0];
  let peak = 0;
  let activePeak = 0;
  let sumSquares = 0;
  let activeSamples = 0;
  let sumLL = 0;
  let sumRR = 0;
  let sumLR = 0;
  for (let k = 0; k < blocks; k++) {
    const from = blockStart(k);
    const to = blockStart(k + 1);
    const inActive = counts(k);
    for (const ch of channels) {
      let blockPeak = 0;
      let blockSquares = 0;
      for (let i = from; i < to; i++) {
        const x = ch[i];
        blockSquares += x * x;
        const a = Math.abs(x);
        if (a > blockPeak) blockPeak = a;
      }
      if (blockPeak > peak) peak = blockPeak;
      if (inActive) {
        if (blockPeak > activePeak) activePeak = blockPeak;
        sumSquares += blockSquares;
      }
    }
    if (!inActive) continue;
    activeSamples += (to - from) * channels.length;
    if (stereo) {
      for (let i = from; i < to; i++) {
        const l = left[i];
        const r = right[i];
        sumLL += l * l;
        sumRR += r * r;
        sumLR += l * r;
      }
    }
  }
  // Samples after the last whole block (under 100 ms) still count for the peak.
  for (const ch of channels) {
    for (let i = blockStart(blocks); i < ch.length; i++) peak = Math.max(peak, Math.abs(ch[i]));
  }

  let width = 0;
  let correlation = 1;
  let balance = 0;
  if (stereo && sumLL + sumRR > 0) {
    balance = (sumRR - sumLL) / (sumRR + sumLL);
    const mid = (sumLL + sumRR + 2 * sumLR) / 4;
    const side = Math.max(0, (sumLL + sumRR - 2 * sumLR) / 4);
    width = mid > side / MAX_STEREO_WIDTH ? side / mid : MAX_STEREO_WIDTH;
    correlation = sumLL > 0 && sumRR > 0 ? Math.max(-1, Math.min(1, sumLR / Math.sqrt(sumLL * sumRR))) : 0;
  }
  return { peak, activePeak, activeMeanSquare: activeSamples ? sumSquares / activeSamples : 0, width, correlation, balance };
}

interface SpectralFeatures {
  centroidHz: number;
  tiltDbPerOctave: number;
  bandEnergiesDb: number[];
  melMeanDb: number[];
}

function spectralFeatures(
  channels: Float32Array[],
  sampleRate: number,
  blocks: number,
  counts: (k: number) => boolean,
  signal: { readonly aborted: boolean } | undefined,
  fft: ReferencePowerFft | undefined,
): SpectralFeatures {
  const { fftSize, hopSize, sampleRate: analysisRate, melBands } = SPECTROGRAM;
  const mono = downmix(channels);
  const analysed = toAnalysisRate(mono, sampleRate, analysisRate);
  if (signal?.aborted) throw new CancelledError('Track analysis cancelled');

  const bins = fftSize / 2 + 1;
  const binHz = analysisRate / fftSize;
  const bank = melFilterbank();
  const meanPower = new Float64Array(bins);
  const melSumDb = new Float64Array(melBands);
  const mel = new Float64Array(melBands);
  let spectralFrames = 0;
  let centroidSum = 0;
  let centroidFrames = 0;

  forEachPowerFrame(
    analysed,
    (power, t) => {
      // The block holding the frame's centre decides whether the frame is part of the track playing.
      const block = Math.min(blocks - 1, Math.floor((t * hopSize * BLOCKS_PER_SECOND) / analysisRate));
      if (blocks > 0 && !counts(block)) return;
      spectralFrames++;
      let magnitudeSum = 0;
      let weighted = 0;
      for (let k = 0; k < bins; k++) {
        const p = power[k];
        meanPower[k] += p;
        const magnitude = Math.sqrt(p);
        magnitudeSum += magnitude;
        weighted += magnitude * k;
      }
      if (magnitudeSum > 0) {
        centroidSum += (weighted / magnitudeSum) * binHz;
        centroidFrames++;
      }
      applyMelFrame(bank, power, 0, mel);
      for (let m = 0; m < melBands; m++) melSumDb[m] += powerToDb(mel[m]);
    },
    { fftSize, hopSize, signal, fft },
  );

  let total = 0;
  for (let k = 0; k < bins; k++) {
    if (spectralFrames) meanPower[k] /= spectralFrames;
    total += meanPower[k];
  }
  const bandEnergiesDb: number[] = [];
  for (let b = 0; b + 1 < FEATURE_BANDS_HZ.length; b++) {
    let band = 0;
    for (let k = 0; k < bins; k++) {
      const f = k * binHz;
      if (f >= FEATURE_BANDS_HZ[b] && f < FEATURE_BANDS_HZ[b + 1]) band += meanPower[k];
    }
    bandEnergiesDb.push(total > 0 ? Math.max(SILENT_DB, 10 * Math.log10(band / total)) : SILENT_DB);
  }
  const melMeanDb = Array.from(melSumDb, (sum) => (spectralFrames ? sum / spectralFrames : MEL_FLOOR_DB));
  return {
    centroidHz: centroidFrames ? centroidSum / centroidFrames : 0,
    tiltDbPerOctave: total > 0 ? spectralTilt(meanPower, binHz) : 0,
    bandEnergiesDb,
    melMeanDb,
  };
}

/** Weighted least-squares slope of dB against octaves; 1/f weights give every octave equal say. */
function spectralTilt(power: Float64Array, binHz: number): number {
  let sw = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (let k = Math.ceil(TILT_LOW_HZ / binHz); k * binHz <= TILT_HIGH_HZ && k < power.length; k++) {
    const f = k * binHz;
    const w = 1 / f;
    const x = Math.log2(f);
    const y = 10 * Math.log10(Math.max(power[k], SILENT_POWER));
    sw += w;
    sx += w * x;
    sy += w * y;
    sxx += w * x * x;
    sxy += w * x * y;
  }
  const denominator = sw * sxx - sx * sx;
  return denominator > 0 ? (sw * sxy - sx * sy) / denominator : 0;
}

/** Taps on each side of a half-band decimator's centre that are not zero (every other tap is). */
const HALF_BAND_SIDE_TAPS = 16;
/** Kaiser β of the half-band: ~60 dB of alias rejection, plenty for features read in dB. */
const HALF_BAND_BETA = 6;
let halfBandTaps: Float64Array | null = null;

/** Odd-offset taps h[1], h[3], … of a Kaiser-windowed half-band low-pass (h[0] = 1/2), DC gain 1. */
function halfBandKernel(): Float64Array {
  if (halfBandTaps) return halfBandTaps;
  const taps = new Float64Array(HALF_BAND_SIDE_TAPS);
  const half = 2 * HALF_BAND_SIDE_TAPS;
  const i0 = (x: number): number => {
    let sum = 1;
    let term = 1;
    for (let k = 1; k < 50; k++) {
      term *= (x / (2 * k)) ** 2;
      sum += term;
    }
    return sum;
  };
  let sum = 0.5;
  for (let j = 0; j < HALF_BAND_SIDE_TAPS; j++) {
    const n = 2 * j + 1;
    const r = n / half;
    const h = (Math.sin((Math.PI * n) / 2) / (Math.PI * n)) * (i0(HALF_BAND_BETA * Math.sqrt(1 - r * r)) / i0(HALF_BAND_BETA));
    taps[j] = h;
    sum += 2 * h;
  }
  // Unity DC gain: the centre tap stays 1/2 and the rest share the correction.
  const scale = 0.5 / (sum - 0.5);
  for (let j = 0; j < taps.length; j++) taps[j] *= scale;
  halfBandTaps = taps;
  return taps;
}

/** Halves the rate with a symmetric half-band FIR: a quarter of resample()'s work at 44.1 → 22.05 kHz. */
function decimateByTwo(input: Float32Array): Float32Array {
  const taps = halfBandKernel();
  const side = taps.length;
  const out = new Float32Array(Math.ceil(input.length / 2));
  const last = input.length - 1;
  const reach = 2 * side - 1;
  for (let n = 0; n < out.length; n++) {
    const centre = 2 * n;
    let acc = 0.5 * input[centre];
    if (centre - reach >= 0 && centre + reach <= last) {
      for (let j = 0; j < side; j++) {
        const d = 2 * j + 1;
        acc += taps[j] * (input[centre - d] + input[centre + d]);
      }
    } else {
      for (let j = 0; j < side; j++) {
        const d = 2 * j + 1;
        const before = centre - d >= 0 ? input[centre - d] : 0;
        const after = centre + d <= last ? input[centre + d] : 0;
        acc += taps[j] * (before + after);
      }
    }
    out[n] = acc;
  }
  return out;
}

/** The mono signal at the analysis rate: the common 2× case by half-band, any other by resample(). */
function toAnalysisRate(mono: Float32Array, sampleRate: number, analysisRate: number): Float32Array {
  if (sampleRate === 2 * analysisRate) return decimateByTwo(mono);
  return resample([mono], sampleRate, analysisRate)[0];
}

/** Mean of the channels: the spectral features describe what the track sounds like summed to mono. */
function downmix(channels: Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0];
  const out = new Float32Array(channels[0].length);
  if (channels.length === 2) {
    // One pass for the usual stereo track: this runs over every sample of every track.
    const [left, right] = channels;
    for (let i = 0; i < out.length; i++) out[i] = 0.5 * (left[i] + right[i]);
    return out;
  }
  const scale = 1 / channels.length;
  for (const ch of channels) for (let i = 0; i < ch.length; i++) out[i] += ch[i];
  for (let i = 0; i < out.length; i++) out[i] *= scale;
  return out;
}

// ---- src/dsp/loudness.ts (loudnessPowers without the true-peak branch) ----

const HOPS_PER_SECOND = 10;
const MOMENTARY_HOPS = 4;
const SHORT_TERM_HOPS = 30;
const ABSOLUTE_GATE_LUFS = -70;
const INTEGRATED_RELATIVE_GATE_LU = -10;
const SURROUND_WEIGHT = 1.41;
const HOPS_PER_CHUNK = 10;

function channelWeightsFor(channelCount: number): number[] {
  if (channelCount === 5) return [1, 1, 1, SURROUND_WEIGHT, SURROUND_WEIGHT];
  if (channelCount === 6) return [1, 1, 1, 0, SURROUND_WEIGHT, SURROUND_WEIGHT];
  return new Array<number>(channelCount).fill(1);
}

interface LoudnessPowers {
  integratedLufs: number;
  momentaryPower: Float64Array;
  shortTermPower: Float64Array;
}

function loudnessPowers(channels: Float32Array[], sampleRate: number, opts: { signal?: { readonly aborted: boolean } } = {}): LoudnessPowers {
  const { momentaryPower, shortTermPower } = measurePowers(channels, sampleRate, opts);
  return { integratedLufs: gatedLoudness(momentaryPower.subarray(MOMENTARY_HOPS - 1)), momentaryPower, shortTermPower };
}

function measurePowers(
  channels: Float32Array[],
  sampleRate: number,
  opts: { signal?: { readonly aborted: boolean } },
): { momentaryPower: Float64Array; shortTermPower: Float64Array } {
  if (!(sampleRate > 0)) throw new RangeError(`Sample rate must be positive, got ${sampleRate}`);
  if (channels.length === 0) throw new RangeError('Loudness needs at least one channel');
  const frames = channels[0].length;
  if (channels.some((ch) => ch.length !== frames)) throw new RangeError('All channels must have the same length');
  const weights = channelWeightsFor(channels.length);
  const { signal } = opts;
  if (signal?.aborted) throw new CancelledError('Loudness measurement cancelled');

  const hopStart = (k: number): number => Math.round((k * sampleRate) / HOPS_PER_SECOND);
  let hops = Math.floor((frames * HOPS_PER_SECOND) / sampleRate) + 1;
  while (hops > 0 && hopStart(hops) > frames) hops--;

  const filters = channels.map(() => new KWeightingFilter(sampleRate));
  const energyBefore = new Float64Array(hops + 1);
  const audibleBefore = new Int32Array(hops + 1);
  const hopEnergy = new Float64Array(hops);

  for (let chunk = 0; chunk * HOPS_PER_CHUNK < Math.max(hops, 1); chunk++) {
    if (signal?.aborted) throw new CancelledError('Loudness measurement cancelled');
    const firstHop = chunk * HOPS_PER_CHUNK;
    const endHop = Math.min(hops, firstHop + HOPS_PER_CHUNK);
    for (let k = firstHop; k < endHop; k++) {
      const from = hopStart(k);
      const n = hopStart(k + 1) - from;
      let energy = 0;
      for (let c = 0; c < channels.length; c++) {
        if (weights[c] !== 0) energy += weights[c] * filters[c].sumOfSquares(channels[c], from, n);
      }
      hopEnergy[k] = energy;
      energyBefore[k + 1] = energyBefore[k] + energy;
      audibleBefore[k + 1] = audibleBefore[k] + (energy > 0 ? 1 : 0);
    }
  }

  const windowEnergy = (endHop: number, length: number): number => {
    const startHop = Math.max(0, endHop - length);
    if (audibleBefore[endHop] === audibleBefore[startHop]) return 0;
    const sum = energyBefore[endHop] - energyBefore[startHop];
    if (sum > energyBefore[endHop] * 1e-9) return sum;
    let exact = 0;
    for (let k = startHop; k < endHop; k++) exact += hopEnergy[k];
    return exact;
  };
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

// ---- src/dsp/k-weighting.ts (KWeightingFilter) ----

class KWeightingFilter {
  readonly #c: KWeightingCoefficients;
  #s1z1 = 0;
  #s1z2 = 0;
  #s2z1 = 0;
  #s2z2 = 0;

  constructor(sampleRate: number) {
    this.#c = kWeightingCoefficients(sampleRate);
  }

  sumOfSquares(input: Float32Array, offset: number, n: number): number {
    const p = this.#c.preFilter, h = this.#c.rlbHighPass;
    const pb0 = p.b0, pb1 = p.b1, pb2 = p.b2, pa1 = p.a1, pa2 = p.a2;
    const hb0 = h.b0, hb1 = h.b1, hb2 = h.b2, ha1 = h.a1, ha2 = h.a2;
    let s1z1 = this.#s1z1, s1z2 = this.#s1z2, s2z1 = this.#s2z1, s2z2 = this.#s2z2;
    let energy = 0;
    const end = offset + n;
    for (let i = offset; i < end; i++) {
      const x = input[i];
      const y1 = pb0 * x + s1z1;
      s1z1 = pb1 * x - pa1 * y1 + s1z2;
      s1z2 = pb2 * x - pa2 * y1;
      const y2 = hb0 * y1 + s2z1;
      s2z1 = hb1 * y1 - ha1 * y2 + s2z2;
      s2z2 = hb2 * y1 - ha2 * y2;
      energy += y2 * y2;
    }
    this.#s1z1 = Math.abs(s1z1) < 1e-30 ? 0 : s1z1;
    this.#s1z2 = Math.abs(s1z2) < 1e-30 ? 0 : s1z2;
    this.#s2z1 = Math.abs(s2z1) < 1e-30 ? 0 : s2z1;
    this.#s2z2 = Math.abs(s2z2) < 1e-30 ? 0 : s2z2;
    return energy;
  }
}

// ---- src/dsp/stft.ts (forEachPowerFrame, fft.js power) ----

const FRAMES_PER_CHECK = 256;

/** fft.js as the reference's FFT. */
export function referenceFftJsPower(size: number): ReferencePowerFft {
  const fft = new FFT(size);
  const spectrum = fft.createComplexArray() as number[];
  const half = size / 2;
  return {
    size,
    power(windowed, out, edge, inner) {
      fft.realTransform(spectrum, windowed);
      out[0] = (spectrum[0] * spectrum[0] + spectrum[1] * spectrum[1]) * edge;
      for (let k = 1; k < half; k++) {
        const re = spectrum[2 * k];
        const im = spectrum[2 * k + 1];
        out[k] = (re * re + im * im) * inner;
      }
      out[half] = (spectrum[size] * spectrum[size] + spectrum[size + 1] * spectrum[size + 1]) * edge;
    },
  };
}

function forEachPowerFrame(
  signal: Float32Array,
  onFrame: (power: Float32Array, frame: number) => void,
  opts: { fftSize: number; hopSize: number; signal?: { readonly aborted: boolean }; fft?: ReferencePowerFft },
): void {
  const { fftSize, hopSize } = opts;
  const half = fftSize / 2;
  const frames = 1 + Math.floor(signal.length / hopSize);
  const window = new Float64Array(fftSize);
  for (let n = 0; n < fftSize; n++) window[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / fftSize);
  let windowEnergy = 0;
  for (let n = 0; n < fftSize; n++) windowEnergy += window[n] * window[n];
  const edgeScale = 1 / (fftSize * windowEnergy);
  const innerScale = 2 * edgeScale;

  const fft = opts.fft ?? referenceFftJsPower(fftSize);
  const input = new Float64Array(fftSize);
  const power = new Float32Array(half + 1);
  const length = signal.length;

  for (let t = 0; t < frames; t++) {
    if (t % FRAMES_PER_CHECK === 0 && opts.signal?.aborted) throw new CancelledError('Spectrogram cancelled');
    const start = t * hopSize - half;
    if (start >= 0 && start + fftSize <= length) {
      for (let n = 0; n < fftSize; n++) input[n] = window[n] * signal[start + n];
    } else {
      for (let n = 0; n < fftSize; n++) {
        const i = start + n;
        input[n] = i >= 0 && i < length ? window[n] * signal[i] : 0;
      }
    }
    fft.power(input, power, edgeScale, innerScale);
    onFrame(power, t);
  }
}

// Mel filterbank and log-mel spectrogram, built like librosa.filters.mel's default (htk=False,
// norm='slaney') so the trainer's features and a Python cross-check agree.
import { SPECTROGRAM } from '../shared/features';
import type { PowerSpectrogram } from './stft';

/** Log-mel values never go below this (dB): silence stays finite and a model sees a fixed floor. */
export const MEL_FLOOR_DB = -120;
const MEL_FLOOR_POWER = Math.pow(10, MEL_FLOOR_DB / 10);

// Slaney's Auditory Toolbox scale: linear (200/3 Hz per mel) below 1 kHz, logarithmic above.
const LINEAR_HZ_PER_MEL = 200 / 3;
const LOG_START_HZ = 1000;
const LOG_START_MEL = LOG_START_HZ / LINEAR_HZ_PER_MEL;
const LOG_STEP = Math.log(6.4) / 27;

/** Slaney mel of a frequency in Hz (not HTK's 2595·log10(1 + f/700)). */
export function hzToMel(hz: number): number {
  return hz < LOG_START_HZ ? hz / LINEAR_HZ_PER_MEL : LOG_START_MEL + Math.log(hz / LOG_START_HZ) / LOG_STEP;
}

export function melToHz(mel: number): number {
  return mel < LOG_START_MEL ? mel * LINEAR_HZ_PER_MEL : LOG_START_HZ * Math.exp(LOG_STEP * (mel - LOG_START_MEL));
}

export interface MelFilterbankSpec {
  sampleRate: number;
  fftSize: number;
  melBands: number;
  fMin: number;
  fMax: number;
}

/**
 * Triangular filters on the Slaney mel scale, each Slaney-area-normalized (peak 2/(f_hi − f_lo)),
 * so a filter's area over frequency is 1 and a band's value is mean power per Hz across the band:
 * white noise gives the same value in every band.
 */
export interface MelFilterbank {
  spec: MelFilterbankSpec;
  /** Dense weights, band-major: band m's weight for bin k is weights[m·bins + k]. */
  weights: Float32Array;
  bins: number;
  /** Band m's non-zero weights lie in bins [firstBin[m], endBin[m]). */
  firstBin: Int32Array;
  endBin: Int32Array;
  /** Band centre frequencies (Hz). */
  centresHz: Float64Array;
}

const filterbankCache = new Map<string, MelFilterbank>();

/** The mel filterbank for a spectrum layout (memoized; the default is SPECTROGRAM's). */
export function melFilterbank(spec: MelFilterbankSpec = SPECTROGRAM): MelFilterbank {
  const key = `${spec.sampleRate}/${spec.fftSize}/${spec.melBands}/${spec.fMin}/${spec.fMax}`;
  const cached = filterbankCache.get(key);
  if (cached) return cached;
  const { sampleRate, fftSize, melBands, fMin, fMax } = spec;
  if (!(fMin >= 0 && fMax > fMin && fMax <= sampleRate / 2)) throw new RangeError(`mel range ${fMin}–${fMax} Hz does not fit under Nyquist ${sampleRate / 2} Hz`);
  const bins = fftSize / 2 + 1;
  const melLow = hzToMel(fMin);
  const melHigh = hzToMel(fMax);
  const edgesHz = new Float64Array(melBands + 2);
  for (let i = 0; i < melBands + 2; i++) edgesHz[i] = melToHz(melLow + ((melHigh - melLow) * i) / (melBands + 1));

  const weights = new Float32Array(melBands * bins);
  const firstBin = new Int32Array(melBands).fill(bins);
  const endBin = new Int32Array(melBands);
  const centresHz = new Float64Array(melBands);
  for (let m = 0; m < melBands; m++) {
    const lo = edgesHz[m];
    const centre = edgesHz[m + 1];
    const hi = edgesHz[m + 2];
    centresHz[m] = centre;
    const norm = 2 / (hi - lo);
    for (let k = 0; k < bins; k++) {
      const f = (k * sampleRate) / fftSize;
      const w = Math.max(0, Math.min((f - lo) / (centre - lo), (hi - f) / (hi - centre)));
      if (w > 0) {
        weights[m * bins + k] = w * norm;
        if (k < firstBin[m]) firstBin[m] = k;
        endBin[m] = k + 1;
      }
    }
    if (endBin[m] === 0) firstBin[m] = 0;
  }
  const bank: MelFilterbank = { spec: { sampleRate, fftSize, melBands, fMin, fMax }, weights, bins, firstBin, endBin, centresHz };
  filterbankCache.set(key, bank);
  return bank;
}

/** Mel power (linear) of one spectrum frame starting at power[offset], written to out[outOffset…]. */
export function applyMelFrame(bank: MelFilterbank, power: Float32Array, offset: number, out: Float32Array | Float64Array, outOffset = 0): void {
  const { weights, bins, firstBin, endBin } = bank;
  const bands = firstBin.length;
  for (let m = 0; m < bands; m++) {
    const row = m * bins;
    let acc = 0;
    for (let k = firstBin[m]; k < endBin[m]; k++) acc += weights[row + k] * power[offset + k];
    out[outOffset + m] = acc;
  }
}

/**
 * The filterbank as runs of bins, for a mel projection folded into another loop over a spectrum's bins: every bin k
 * of run r feeds band band[r] with weight lower[k] and band band[r] + 1 with weight upper[k] (0 past the last band);
 * band[r] is −1 for bins under no band. Neighbouring triangles overlap by half, so no bin feeds more than two bands.
 */
export interface MelRuns {
  /** Run r covers bins [end[r − 1], end[r]), from bin 0. */
  end: Int32Array;
  band: Int32Array;
  lower: Float64Array;
  upper: Float64Array;
}

const runsCache = new WeakMap<MelFilterbank, MelRuns>();

/** The bank's MelRuns (memoized); the weights are the bank's own, so sums match applyMelFrame's to rounding. */
export function melRuns(bank: MelFilterbank): MelRuns {
  const cached = runsCache.get(bank);
  if (cached) return cached;
  const { weights, bins } = bank;
  const bands = bank.firstBin.length;
  const lower = new Float64Array(bins);
  const upper = new Float64Array(bins);
  const lowest = new Int32Array(bins).fill(-1);
  for (let m = 0; m < bands; m++) {
    for (let k = bank.firstBin[m]; k < bank.endBin[m]; k++) {
      const w = weights[m * bins + k];
      if (w === 0) continue;
      if (lowest[k] < 0) {
        lowest[k] = m;
        lower[k] = w;
      } else if (m === lowest[k] + 1) upper[k] = w;
      else throw new RangeError(`bin ${k} feeds bands ${lowest[k]} and ${m}: not a bank of half-overlapping triangles`);
    }
  }
  const end: number[] = [];
  const band: number[] = [];
  for (let k = 0; k < bins; k++) {
    if (k === 0 || lowest[k] !== lowest[k - 1]) {
      end.push(k + 1);
      band.push(lowest[k]);
    } else end[end.length - 1] = k + 1;
  }
  const runs: MelRuns = { end: Int32Array.from(end), band: Int32Array.from(band), lower, upper };
  runsCache.set(bank, runs);
  return runs;
}

/** Power to dB with the MEL_FLOOR_DB floor. */
export function powerToDb(power: number): number {
  return 10 * Math.log10(power > MEL_FLOOR_POWER ? power : MEL_FLOOR_POWER);
}

/**
 * Log-mel spectrogram (dB, floored at MEL_FLOOR_DB), frame-major: frames × melBands, row-major,
 * the layout AutomixTrackInput.melPatches slices. No per-track normalization: levels between
 * tracks are the point.
 */
export function logMelSpectrogram(spectrogram: PowerSpectrogram, bank: MelFilterbank = melFilterbank()): Float32Array {
  if (spectrogram.bins !== bank.bins) throw new RangeError(`spectrogram has ${spectrogram.bins} bins, the filterbank expects ${bank.bins}`);
  const bands = bank.firstBin.length;
  const out = new Float32Array(spectrogram.frames * bands);
  const frame = new Float64Array(bands);
  for (let t = 0; t < spectrogram.frames; t++) {
    applyMelFrame(bank, spectrogram.power, t * spectrogram.bins, frame);
    for (let m = 0; m < bands; m++) out[t * bands + m] = powerToDb(frame[m]);
  }
  return out;
}

// Frame features of an episode, computed per analysis chunk at 16 kHz mono (8 kHz for pitch).
//
// Every feature, its grid and its meaning:
// - levelDb (10 ms frames): RMS level in dBFS. Cuts are placed in its low gaps; syllable rate and the 4–7 Hz
//   modulation that marks laughter are read from its envelope.
// - flatness (40 ms): spectral flatness over 150–6000 Hz (geometric / arithmetic mean of the power), 0 for a
//   pure tone, ~0.5 and above for noise. Applause is flat; music is not.
// - centroidHz (40 ms): spectral centroid over 100–8000 Hz.
// - flux (40 ms): mean positive change of the log power spectrum from the previous frame (dB per bin): onsets.
// - hfRatio (40 ms): share of the power above 3.5 kHz (breath, hiss, claps, cymbals).
// - stability (40 ms): correlation of the log power spectrum (150–4000 Hz) with the one 120 ms earlier.
//   Sustained notes keep their partials in place (near 1); speech glides (lower); raw noise bins decorrelate (near 0).
// - pitchHz / voicing (40 ms): F0 from the normalised autocorrelation of a
//   32 ms Hann frame at 8 kHz, searched over 70–400 Hz; voicing is the autocorrelation peak (0…1), pitch 0 when
//   voicing < VOICED. Pitch variance is the "excitement" cue; speaker changes compare phrase pitch.
// Speech probability comes from the VAD (models/silero-vad/runner.ts) on its own 32 ms grid.
import FFT from 'fft.js';
import type { Autocorrelation } from '../../dsp/pffft';
import { forEachPowerFrame, type PowerFft } from '../../dsp/stft';
import { VAD_RATE } from '../../../models/silero-vad/runner';

export const ANALYSIS_RATE = 16000;
/** Pitch is read at the VAD's rate: one decimation serves both. */
export { VAD_RATE };
export const LEVEL_HOP = 160;
/** 40 ms: five spectral frames per 0.2 s class block, at half the cost of 20 ms (measured: features were a quarter of the analysis). */
export const SPEC_HOP = 640;
export const LEVEL_HOP_S = LEVEL_HOP / ANALYSIS_RATE;
export const SPEC_HOP_S = SPEC_HOP / ANALYSIS_RATE;
/** Chunks start on multiples of this (0.16 s: whole 10 ms, 40 ms and 32 ms frames), so their grids line up. */
export const CHUNK_QUANTUM_S = 0.16;
export const VOICED = 0.45;
const SPEC_FFT = 512;
const PITCH_FFT = 512;
const PITCH_WINDOW = 256;
const PITCH_MIN_HZ = 70;
const PITCH_MAX_HZ = 400;
const STABILITY_LAG = 3;
/** Frames below this level (dBFS) are not analysed for pitch: nothing to hear there. */
const PITCH_GATE_DB = -55;

export interface FrameFeatures {
  levelDb: Float32Array;
  flatness: Float32Array;
  centroidHz: Float32Array;
  flux: Float32Array;
  hfRatio: Float32Array;
  stability: Float32Array;
  pitchHz: Float32Array;
  voicing: Float32Array;
}

export const SPEC_FEATURES = ['flatness', 'centroidHz', 'flux', 'hfRatio', 'stability', 'pitchHz', 'voicing'] as const;

/** RMS level per 10 ms frame, dBFS (−120 floor). */
export function levelContour(x: Float32Array): Float32Array {
  const frames = Math.floor(x.length / LEVEL_HOP);
  const out = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let ss = 0;
    for (let i = f * LEVEL_HOP, e = i + LEVEL_HOP; i < e; i++) ss += x[i] * x[i];
    out[f] = 10 * Math.log10(ss / LEVEL_HOP + 1e-12);
  }
  return out;
}

const binHz = ANALYSIS_RATE / SPEC_FFT;
/** 10·log10(p) = DB_PER_NEPER_POWER·ln(p). */
const DB_PER_NEPER_POWER = 10 / Math.LN10;
const bin = (hz: number) => Math.round(hz / binHz);

/** The autocorrelation with fft.js: the synchronous default (the podcast worker passes PFFFT's, src/dsp/pffft.ts). */
export function fftJsAutocorrelation(size: number): Autocorrelation {
  const fft = new FFT(size);
  const spectrum = fft.createComplexArray() as number[];
  const full = fft.createComplexArray() as number[];
  const result = fft.createComplexArray() as number[];
  return {
    size,
    acf(frame, out) {
      fft.realTransform(spectrum, frame);
      fft.completeSpectrum(spectrum);
      for (let k = 0; k < size; k++) {
        const re = spectrum[2 * k];
        const im = spectrum[2 * k + 1];
        full[2 * k] = re * re + im * im;
        full[2 * k + 1] = 0;
      }
      fft.inverseTransform(result, full);
      for (let lag = 0; lag <= size / 2; lag++) out[lag] = result[2 * lag];
    },
  };
}

class PitchTracker {
  #autocorrelation: Autocorrelation;
  #input = new Float64Array(PITCH_FFT);
  #acf = new Float64Array(PITCH_FFT / 2 + 1);
  #window = new Float64Array(PITCH_WINDOW);
  /** Autocorrelation of the window itself, to undo its taper's bias toward short lags. */
  #windowAcf = new Float64Array(PITCH_WINDOW);
  #minLag = Math.floor(VAD_RATE / PITCH_MAX_HZ);
  #maxLag = Math.ceil(VAD_RATE / PITCH_MIN_HZ);

  constructor(autocorrelation: Autocorrelation = fftJsAutocorrelation(PITCH_FFT)) {
    if (autocorrelation.size !== PITCH_FFT) throw new RangeError(`pitch needs a ${PITCH_FFT}-point autocorrelation, got ${autocorrelation.size}`);
    this.#autocorrelation = autocorrelation;
    for (let n = 0; n < PITCH_WINDOW; n++) this.#window[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (n + 0.5)) / PITCH_WINDOW);
    for (let lag = 0; lag < PITCH_WINDOW; lag++) {
      let s = 0;
      for (let n = 0; n + lag < PITCH_WINDOW; n++) s += this.#window[n] * this.#window[n + lag];
      this.#windowAcf[lag] = s;
    }
  }

  /** [pitchHz, voicing] of the 32 ms frame of x8 centred on sample `centre`. */
  measure(x8: Float32Array, centre: number): [number, number] {
    const input = this.#input;
    input.fill(0);
    const start = centre - PITCH_WINDOW / 2;
    let mean = 0;
    for (let n = 0; n < PITCH_WINDOW; n++) mean += x8[start + n] ?? 0;
    mean /= PITCH_WINDOW;
    for (let n = 0; n < PITCH_WINDOW; n++) input[n] = ((x8[start + n] ?? 0) - mean) * this.#window[n];
    // Zero-padded to twice the window, so the circular autocorrelation has no wrap-around at the lags searched.
    this.#autocorrelation.acf(input, this.#acf);
    const r0 = this.#acf[0];
    if (!(r0 > 1e-10)) return [0, 0];
    let best = -1;
    let bestLag = 0;
    const norm = (lag: number) => this.#acf[lag] / r0 / (this.#windowAcf[lag] / this.#windowAcf[0]);
    for (let lag = this.#minLag; lag <= this.#maxLag; lag++) {
      const v = norm(lag);
      if (v > best) {
        best = v;
        bestLag = lag;
      }
    }
    // Octave errors: a peak at half the lag that is nearly as strong is the true period.
    for (let div = 2; div <= 3; div++) {
      const lag = Math.round(bestLag / div);
      if (lag >= this.#minLag && norm(lag) > 0.85 * best) {
        bestLag = lag;
        best = norm(lag);
        break;
      }
    }
    // Parabolic interpolation of the peak.
    let period = bestLag;
    if (bestLag > this.#minLag && bestLag < this.#maxLag) {
      const a = norm(bestLag - 1);
      const b = norm(bestLag);
      const c = norm(bestLag + 1);
      const d = a - 2 * b + c;
      if (d < 0) period = bestLag + (0.5 * (a - c)) / d;
    }
    const voicing = Math.max(0, Math.min(1, best));
    return [voicing >= VOICED ? VAD_RATE / period : 0, voicing];
  }
}

/** The transforms frameFeatures uses; fft.js for both when absent (the podcast worker passes PFFFT's, ~5× faster). */
export interface FeatureTransforms {
  /** SPEC_FFT-point power spectra for the spectral features. */
  spectrum?: PowerFft;
  /** PITCH_FFT-point autocorrelation for pitch. */
  autocorrelation?: Autocorrelation;
}

export const FEATURE_FFT_SIZES = { spectrum: SPEC_FFT, autocorrelation: PITCH_FFT } as const;

/**
 * Frame features of one chunk: x16 at 16 kHz and x8 (its decimate-by-two) at 8 kHz. The chunk's length must
 * be a multiple of CHUNK_QUANTUM_S (the last chunk of an episode may be shorter).
 */
export function frameFeatures(x16: Float32Array, x8: Float32Array, transforms: FeatureTransforms = {}): FrameFeatures {
  const levelDb = levelContour(x16);
  const frames = Math.floor(x16.length / SPEC_HOP);
  const flatness = new Float32Array(frames);
  const centroidHz = new Float32Array(frames);
  const flux = new Float32Array(frames);
  const hfRatio = new Float32Array(frames);
  const stability = new Float32Array(frames);
  const pitchHz = new Float32Array(frames);
  const voicing = new Float32Array(frames);
  const bins = SPEC_FFT / 2 + 1;
  const flatLo = bin(150);
  const flatHi = bin(6000);
  const cenLo = bin(100);
  const hfFrom = bin(3500);
  const stabLo = bin(150);
  const stabHi = bin(4000);
  const stabBins = stabHi - stabLo;
  // Log spectra of the last STABILITY_LAG + 1 frames, for flux (lag 1) and stability (lag 5).
  const history = Array.from({ length: STABILITY_LAG + 1 }, () => new Float32Array(bins));
  const pitch = new PitchTracker(transforms.autocorrelation);

  forEachPowerFrame(
    x16,
    (power, t) => {
      if (t >= frames) return;
      const log = history[t % (STABILITY_LAG + 1)];
      let total = 0;
      let weighted = 0;
      let high = 0;
      let logSum = 0;
      let linSum = 0;
      for (let k = cenLo; k < bins; k++) {
        const p = power[k];
        total += p;
        weighted += p * k * binHz;
        if (k >= hfFrom) high += p;
      }
      // One natural log per bin (Math.log costs about half of Math.log10 here) serves both the dB spectrum and flatness.
      for (let k = 0; k < bins; k++) log[k] = Math.log(power[k] + 1e-12);
      for (let k = flatLo; k < flatHi; k++) {
        logSum += log[k];
        linSum += power[k] + 1e-12;
      }
      for (let k = 0; k < bins; k++) log[k] *= DB_PER_NEPER_POWER;
      const n = flatHi - flatLo;
      flatness[t] = Math.exp(logSum / n) / (linSum / n);
      centroidHz[t] = total > 1e-12 ? weighted / total : 0;
      hfRatio[t] = total > 1e-12 ? high / total : 0;
      if (t > 0) {
        const prev = history[(t - 1) % (STABILITY_LAG + 1)];
        let rise = 0;
        for (let k = cenLo; k < bins; k++) {
          const d = log[k] - prev[k];
          if (d > 0) rise += d;
        }
        flux[t] = rise / (bins - cenLo);
      }
      if (t >= STABILITY_LAG) {
        const old = history[(t - STABILITY_LAG) % (STABILITY_LAG + 1)];
        let ma = 0;
        let mb = 0;
        for (let k = stabLo; k < stabHi; k++) {
          ma += log[k];
          mb += old[k];
        }
        ma /= stabBins;
        mb /= stabBins;
        let sab = 0;
        let saa = 0;
        let sbb = 0;
        for (let k = stabLo; k < stabHi; k++) {
          const a = log[k] - ma;
          const b = old[k] - mb;
          sab += a * b;
          saa += a * a;
          sbb += b * b;
        }
        stability[t] = saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
      }
      // Pitch at every frame (40 ms), skipped where the level says silence.
      const per = SPEC_HOP / LEVEL_HOP;
      let loudest = -120;
      for (let i = t * per; i < (t + 1) * per && i < levelDb.length; i++) loudest = Math.max(loudest, levelDb[i]);
      const [f0, v] = loudest > PITCH_GATE_DB ? pitch.measure(x8, t * (SPEC_HOP / 2)) : [0, 0];
      pitchHz[t] = f0;
      voicing[t] = v;
    },
    { fftSize: SPEC_FFT, hopSize: SPEC_HOP, fft: transforms.spectrum },
  );
  return { levelDb, flatness, centroidHz, flux, hfRatio, stability, pitchHz, voicing };
}

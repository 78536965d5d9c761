// Short-time Fourier transform of a mono signal: Hann-windowed one-sided power spectra, the input of
// the log-mel spectrogram and the spectral track features. The FFT is fft.js (radix-4, real input, synchronous,
// runs anywhere), or a faster PowerFft a caller has loaded (src/dsp/pffft.ts: PFFFT in WASM SIMD, ~8× faster).
import FFT from 'fft.js';
import { CancelledError } from '../shared/errors';
import { SPECTROGRAM } from '../shared/features';

export interface StftOptions {
  /** Power of two (fft.js needs a power of two ≥ 4); defaults to SPECTROGRAM.fftSize. */
  fftSize?: number;
  /** Samples between frame starts; defaults to SPECTROGRAM.hopSize. */
  hopSize?: number;
  /** An AbortSignal; typed structurally because src/dsp compiles without the DOM lib. */
  signal?: { readonly aborted: boolean };
  /** The FFT to use (its size must be fftSize); fft.js when absent. */
  fft?: PowerFft;
  /** Frames for which this is false are neither transformed nor passed on; all frames when absent. */
  include?: (frame: number) => boolean;
}

/**
 * A real FFT of one size that writes the one-sided power of a windowed frame: |X_k|² for k = 0 … size/2, times
 * `edge` for DC and Nyquist and `inner` for the bins between.
 */
export interface PowerFft {
  readonly size: number;
  power(windowed: Float64Array, out: Float32Array, edge: number, inner: number): void;
  /** power() of signal[start … start + size) under the periodic Hann window, reading zeros outside the signal: an STFT frame. */
  hannPower(signal: Float32Array, start: number, out: Float32Array, edge: number, inner: number): void;
  /**
   * The ordered spectrum [X_0, X_{N/2}, re X_1, im X_1, …] of signal[start … start + size), unwindowed, zeros outside
   * the signal; a view valid until the next call. PFFFT only: for the kernels, which window in frequency themselves.
   */
  spectrum?(signal: Float32Array, start: number): Float32Array;
}

/** fft.js behind the PowerFft interface. */
export function fftJsPower(size: number): PowerFft {
  const fft = new FFT(size);
  const spectrum = fft.createComplexArray() as number[];
  const window = hannWindow(size);
  const windowed = new Float64Array(size);
  const half = size / 2;
  const power = (input: Float64Array, out: Float32Array, edge: number, inner: number): void => {
    // realTransform fills bins 0…N/2 (interleaved re, im), all that a one-sided spectrum needs.
    fft.realTransform(spectrum, input);
    out[0] = (spectrum[0] * spectrum[0] + spectrum[1] * spectrum[1]) * edge;
    for (let k = 1; k < half; k++) {
      const re = spectrum[2 * k];
      const im = spectrum[2 * k + 1];
      out[k] = (re * re + im * im) * inner;
    }
    out[half] = (spectrum[size] * spectrum[size] + spectrum[size + 1] * spectrum[size + 1]) * edge;
  };
  return {
    size,
    power,
    hannPower(signal, start, out, edge, inner) {
      if (start >= 0 && start + size <= signal.length) {
        for (let n = 0; n < size; n++) windowed[n] = window[n] * signal[start + n];
      } else {
        for (let n = 0; n < size; n++) {
          const i = start + n;
          windowed[n] = i >= 0 && i < signal.length ? window[n] * signal[i] : 0;
        }
      }
      power(windowed, out, edge, inner);
    },
  };
}

/**
 * Power spectrogram, frame-major: frame t occupies power[t·bins … (t+1)·bins).
 *
 * - Frames are centred (librosa's center=True): frame t covers input samples
 *   [t·hop − fftSize/2, t·hop + fftSize/2), with zeros outside the signal, so frame t describes
 *   time t·hop / sampleRate and there are 1 + ⌊length / hop⌋ frames.
 * - Window: periodic Hann (the DFT-even form, which overlap-adds to a constant at hop = fftSize/4).
 * - Bins k = 0 … fftSize/2 (bins = fftSize/2 + 1), bin k at k·sampleRate/fftSize Hz.
 * - Scaling: one-sided and normalized by the window's energy, so a frame's bins sum to the
 *   mean-square of the signal under the window (a full-scale sine sums to 0.5, white noise of
 *   variance σ² to σ²): values are power in full-scale units, independent of fftSize.
 */
export interface PowerSpectrogram {
  power: Float32Array;
  frames: number;
  bins: number;
  fftSize: number;
  hopSize: number;
}

/** Frames per abort check. */
const FRAMES_PER_CHECK = 256;

const hannCache = new Map<number, Float64Array>();

/** Periodic Hann window of the given length (memoized: every track of a session shares one). */
export function hannWindow(length: number): Float64Array {
  let w = hannCache.get(length);
  if (!w) {
    w = new Float64Array(length);
    for (let n = 0; n < length; n++) w[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / length);
    hannCache.set(length, w);
  }
  return w;
}

/** Frames in a centred STFT of `length` samples at this hop. */
export function frameCount(length: number, hopSize: number = SPECTROGRAM.hopSize): number {
  return 1 + Math.floor(length / hopSize);
}

/**
 * The power scales of a Hann-windowed fftSize-point frame: Parseval gives Σ|X_k|² over all N bins = N·Σ(w·x)², so
 * dividing by N·Σw² gives the windowed mean square; one-sided bins other than DC and Nyquist count twice.
 */
export function hannPowerScales(fftSize: number): { edgeScale: number; innerScale: number } {
  const window = hannWindow(fftSize);
  let windowEnergy = 0;
  for (let n = 0; n < fftSize; n++) windowEnergy += window[n] * window[n];
  const edgeScale = 1 / (fftSize * windowEnergy);
  return { edgeScale, innerScale: 2 * edgeScale };
}

/**
 * Streams the STFT power frames (framing and scaling as in PowerSpectrogram) to onFrame without
 * keeping them: 3 minutes at SPECTROGRAM settings would otherwise hold 32 MB per track. The frame
 * array is reused, so copy what must outlive the call.
 */
export function forEachPowerFrame(signal: Float32Array, onFrame: (power: Float32Array, frame: number) => void, opts: StftOptions = {}): void {
  const fftSize = opts.fftSize ?? SPECTROGRAM.fftSize;
  const hopSize = opts.hopSize ?? SPECTROGRAM.hopSize;
  if (!(fftSize >= 4 && (fftSize & (fftSize - 1)) === 0)) throw new RangeError(`fftSize must be a power of two ≥ 4, got ${fftSize}`);
  if (!(Number.isInteger(hopSize) && hopSize > 0)) throw new RangeError(`hopSize must be a positive integer, got ${hopSize}`);

  const half = fftSize / 2;
  const frames = frameCount(signal.length, hopSize);
  const { edgeScale, innerScale } = hannPowerScales(fftSize);

  const fft = opts.fft ?? fftJsPower(fftSize);
  if (fft.size !== fftSize) throw new RangeError(`the FFT is for ${fft.size} points, the STFT needs ${fftSize}`);
  const power = new Float32Array(half + 1);
  const include = opts.include;

  for (let t = 0; t < frames; t++) {
    if (t % FRAMES_PER_CHECK === 0 && opts.signal?.aborted) throw new CancelledError('Spectrogram cancelled');
    if (include && !include(t)) continue;
    fft.hannPower(signal, t * hopSize - half, power, edgeScale, innerScale);
    onFrame(power, t);
  }
}

/** Hann-windowed STFT power spectra of a mono signal, all frames kept (see PowerSpectrogram). */
export function powerSpectrogram(signal: Float32Array, opts: StftOptions = {}): PowerSpectrogram {
  const fftSize = opts.fftSize ?? SPECTROGRAM.fftSize;
  const hopSize = opts.hopSize ?? SPECTROGRAM.hopSize;
  const bins = fftSize / 2 + 1;
  const frames = frameCount(signal.length, hopSize);
  const power = new Float32Array(frames * bins);
  forEachPowerFrame(signal, (frame, t) => power.set(frame, t * bins), { fftSize, hopSize, signal: opts.signal });
  return { power, frames, bins, fftSize, hopSize };
}

/** Centre frequency (Hz) of each bin of an fftSize-point spectrum at sampleRate. */
export function binFrequencies(fftSize: number, sampleRate: number): Float64Array {
  const bins = fftSize / 2 + 1;
  const f = new Float64Array(bins);
  for (let k = 0; k < bins; k++) f[k] = (k * sampleRate) / fftSize;
  return f;
}

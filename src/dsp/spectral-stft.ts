// Complex STFT and its inverse for masking: frames centred as in stft.ts (frame t covers [t·hop − N/2, t·hop + N/2),
// zeros outside the signal), periodic Hann analysis and synthesis windows, and a weighted overlap-add divided by the
// summed squared window, so an unmasked STFT → iSTFT gives the signal back to float rounding.
import { hannWindow, frameCount } from './stft';
import type { RealFft } from './real-fft';

/** One channel's spectra, frame-major: frame t's ordered spectrum (RealFft layout) is data[t·size … (t+1)·size). */
export interface ComplexStft {
  data: Float32Array;
  frames: number;
  size: number;
  hop: number;
  /** Samples of the signal it was taken from. */
  length: number;
}

export function complexStft(signal: Float32Array, fft: RealFft, hop: number): ComplexStft {
  const size = fft.size;
  const half = size / 2;
  const frames = frameCount(signal.length, hop);
  const data = new Float32Array(frames * size);
  const window = hannWindow(size);
  const frame = new Float32Array(size);
  for (let t = 0; t < frames; t++) {
    const start = t * hop - half;
    for (let n = 0; n < size; n++) {
      const i = start + n;
      frame[n] = i >= 0 && i < signal.length ? window[n] * signal[i] : 0;
    }
    fft.forward(frame, data.subarray(t * size, (t + 1) * size));
  }
  return { data, frames, size, hop, length: signal.length };
}

/** |X| per bin (size/2 + 1 bins) of one frame's ordered spectrum, added into `out` times `scale`. */
export function addMagnitudes(spectrum: Float32Array, out: Float32Array, scale: number): void {
  const half = spectrum.length / 2;
  out[0] += Math.abs(spectrum[0]) * scale;
  out[half] += Math.abs(spectrum[1]) * scale;
  for (let k = 1; k < half; k++) out[k] += Math.hypot(spectrum[2 * k], spectrum[2 * k + 1]) * scale;
}

/** Σ_t w²(n − t·hop + N/2) for each output sample: the overlap-add's normalisation. */
export function synthesisNorm(length: number, size: number, hop: number): Float32Array {
  const window = hannWindow(size);
  const half = size / 2;
  const norm = new Float32Array(length);
  const frames = frameCount(length, hop);
  for (let t = 0; t < frames; t++) {
    const start = t * hop - half;
    for (let n = Math.max(0, -start); n < size && start + n < length; n++) norm[start + n] += window[n] * window[n];
  }
  return norm;
}

/**
 * The inverse of complexStft with a mask: frame t's spectrum times `mask(t, bins)` (size/2 + 1 gains per bin) is
 * inverted, windowed and overlap-added. `norm` is synthesisNorm for this length (shared by every stem).
 */
export function maskedIstft(stft: ComplexStft, fft: RealFft, norm: Float32Array, mask: (frame: number, gains: Float32Array) => void): Float32Array {
  const { size, hop, frames, length, data } = stft;
  const half = size / 2;
  const window = hannWindow(size);
  const out = new Float32Array(length);
  const gains = new Float32Array(half + 1);
  const spectrum = new Float32Array(size);
  const frame = new Float32Array(size);
  for (let t = 0; t < frames; t++) {
    mask(t, gains);
    const x = data.subarray(t * size, (t + 1) * size);
    spectrum[0] = x[0] * gains[0];
    spectrum[1] = x[1] * gains[half];
    for (let k = 1; k < half; k++) {
      spectrum[2 * k] = x[2 * k] * gains[k];
      spectrum[2 * k + 1] = x[2 * k + 1] * gains[k];
    }
    fft.inverse(spectrum, frame);
    const start = t * hop - half;
    for (let n = Math.max(0, -start); n < size && start + n < length; n++) out[start + n] += window[n] * frame[n];
  }
  for (let i = 0; i < length; i++) out[i] = norm[i] > 1e-8 ? out[i] / norm[i] : 0;
  return out;
}

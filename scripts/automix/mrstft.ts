// Multi-resolution STFT distance (Yamamoto et al. 2020, as in auraloss): for each resolution the
// spectral convergence ‖|S_ref| − |S|‖_F / ‖|S_ref|‖_F plus the mean |log |S_ref| − log |S||,
// averaged over resolutions and channels. Hann windows, fft.js.
import FFT from 'fft.js';
import { hannWindow } from '../../src/dsp/stft';

export const MRSTFT_RESOLUTIONS = [
  { fftSize: 512, hopSize: 128 },
  { fftSize: 1024, hopSize: 256 },
  { fftSize: 2048, hopSize: 512 },
] as const;

const LOG_EPS = 1e-7;

/** Distances of several estimates to one reference channel: the reference's spectrum is computed once per frame. */
function channelDistances(ref: Float32Array, ests: Float32Array[], fftSize: number, hopSize: number): number[] {
  const fft = new FFT(fftSize);
  const window = hannWindow(fftSize);
  const frame = new Float64Array(fftSize);
  const spectrum = fft.createComplexArray() as number[];
  const bins = fftSize / 2 + 1;
  const refMag = new Float64Array(bins);
  const length = Math.min(ref.length, ...ests.map((e) => e.length));
  const diffSq = new Float64Array(ests.length);
  const logAbs = new Float64Array(ests.length);
  let refSq = 0, count = 0;
  const magnitudes = (signal: Float32Array, start: number, out: Float64Array | null, visit: (k: number, m: number) => void): void => {
    for (let i = 0; i < fftSize; i++) frame[i] = signal[start + i] * window[i];
    fft.realTransform(spectrum, frame);
    for (let k = 0; k < bins; k++) {
      const re = spectrum[2 * k], im = spectrum[2 * k + 1];
      const m = Math.sqrt(re * re + im * im);
      if (out) out[k] = m;
      else visit(k, m);
    }
  };
  for (let start = 0; start + fftSize <= length; start += hopSize) {
    magnitudes(ref, start, refMag, () => {});
    for (let k = 0; k < bins; k++) refSq += refMag[k] * refMag[k];
    count += bins;
    ests.forEach((est, e) => {
      magnitudes(est, start, null, (k, m) => {
        const a = refMag[k];
        diffSq[e] += (a - m) * (a - m);
        logAbs[e] += Math.abs(Math.log((a + LOG_EPS) / (m + LOG_EPS)));
      });
    });
  }
  return ests.map((_, e) => (refSq > 0 ? Math.sqrt(diffSq[e] / refSq) : 0) + (count ? logAbs[e] / count : 0));
}

/** Distance of each estimate to `ref` (planar channels of equal count); 0 for identical signals. */
export function multiResolutionStftDistances(ref: Float32Array[], ests: Float32Array[][]): number[] {
  const sums = new Array<number>(ests.length).fill(0);
  let n = 0;
  for (const { fftSize, hopSize } of MRSTFT_RESOLUTIONS) {
    for (let c = 0; c < ref.length; c++) {
      channelDistances(ref[c], ests.map((e) => e[c]), fftSize, hopSize).forEach((d, e) => (sums[e] += d));
      n++;
    }
  }
  return sums.map((s) => s / n);
}

export function multiResolutionStftDistance(ref: Float32Array[], est: Float32Array[]): number {
  return multiResolutionStftDistances(ref, [est])[0];
}

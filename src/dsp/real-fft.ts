/// <reference path="./pffft-wasm.d.ts" />
// Forward and inverse real FFTs in PFFFT's ordered layout [X_0, X_{N/2}, re X_1, im X_1, …], for the masked
// STFT → iSTFT of source separation: fft.js (synchronous, runs anywhere) or PFFFT in WASM SIMD (~8× faster).
import FFT from 'fft.js';
import createPffft from '@echogarden/pffft-wasm/simd';

export interface RealFft {
  readonly size: number;
  /** Spectrum of `frame` (size samples) into `out` (size values, ordered layout); unnormalised. */
  forward(frame: Float32Array, out: Float32Array): void;
  /** Inverse of forward(): `spectrum` (ordered layout) into `out` (size samples), scaled by 1/size so inverse(forward(x)) = x. */
  inverse(spectrum: Float32Array, out: Float32Array): void;
}

/** fft.js behind RealFft: the synchronous default and the fallback where PFFFT cannot load. */
export function fftJsReal(size: number): RealFft {
  const fft = new FFT(size);
  const complex = fft.createComplexArray() as number[];
  const full = fft.createComplexArray() as number[];
  const input = new Float64Array(size);
  const half = size / 2;
  return {
    size,
    forward(frame, out) {
      for (let n = 0; n < size; n++) input[n] = frame[n];
      fft.realTransform(complex, input);
      out[0] = complex[0];
      out[1] = complex[size];
      for (let k = 1; k < half; k++) {
        out[2 * k] = complex[2 * k];
        out[2 * k + 1] = complex[2 * k + 1];
      }
    },
    inverse(spectrum, out) {
      // fft.js inverts complex spectra only: rebuild the conjugate-symmetric half.
      full[0] = spectrum[0];
      full[1] = 0;
      full[size] = spectrum[1];
      full[size + 1] = 0;
      for (let k = 1; k < half; k++) {
        const re = spectrum[2 * k];
        const im = spectrum[2 * k + 1];
        full[2 * k] = re;
        full[2 * k + 1] = im;
        full[2 * (size - k)] = re;
        full[2 * (size - k) + 1] = -im;
      }
      fft.inverseTransform(complex, full);
      for (let n = 0; n < size; n++) out[n] = complex[2 * n];
    },
  };
}

const PFFFT_REAL = 0;
const PFFFT_FORWARD = 0;
const PFFFT_BACKWARD = 1;

/** PFFFT behind RealFft (`size` a multiple of 32); `wasmUrl` tells a browser where pffft.wasm is served. */
export async function loadPffftReal(size: number, wasmUrl?: string): Promise<RealFft> {
  const m = await createPffft(wasmUrl ? { locateFile: () => wasmUrl } : {});
  const setup = m._pffft_new_setup(size, PFFFT_REAL);
  if (!setup) throw new Error(`PFFFT has no real transform of ${size} points`);
  const input = m._pffft_aligned_malloc(size * 4) >> 2;
  const output = m._pffft_aligned_malloc(size * 4) >> 2;
  const work = m._pffft_aligned_malloc(size * 4);
  const scale = 1 / size;
  return {
    size,
    forward(frame, out) {
      // HEAPF32 is read per call: the module's memory may have grown since.
      m.HEAPF32.set(frame.subarray(0, size), input);
      m._pffft_transform_ordered(setup, input << 2, output << 2, work, PFFFT_FORWARD);
      out.set(m.HEAPF32.subarray(output, output + size));
    },
    inverse(spectrum, out) {
      m.HEAPF32.set(spectrum.subarray(0, size), input);
      m._pffft_transform_ordered(setup, input << 2, output << 2, work, PFFFT_BACKWARD);
      const y = m.HEAPF32;
      for (let n = 0; n < size; n++) out[n] = y[output + n] * scale;
    },
  };
}

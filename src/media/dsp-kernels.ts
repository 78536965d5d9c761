// The WebAssembly SIMD kernels (src/dsp/kernels.wasm), fetched from our origin once per worker. Installed, they run
// src/dsp's loudness, true-peak and limiter loops; if they cannot load, everything runs on the TypeScript twins.
import { loadDspKernels, useDspKernels, type DspKernels } from '../dsp/kernels';

let kernelsPromise: Promise<DspKernels | undefined> | null = null;

export function dspKernels(): Promise<DspKernels | undefined> {
  kernelsPromise ??= fetch(new URL('../dsp/kernels.wasm', import.meta.url))
    .then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`HTTP ${r.status}`))))
    .then((bytes) => loadDspKernels(bytes))
    .then((kernels) => {
      useDspKernels(kernels);
      return kernels;
    })
    .catch((e: unknown) => {
      console.warn('The DSP kernels did not load; their loops run in TypeScript:', e);
      return undefined;
    });
  return kernelsPromise;
}

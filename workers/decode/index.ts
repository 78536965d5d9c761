// Decode worker: one per import job, so cancelling terminates it (the only way to stop running WASM).
import { expose, transfer } from 'comlink';
import { decodeAudioFile } from '../../src/media/decode';
import { loadDspKernels, type DspKernels } from '../../src/dsp/kernels';
import type { DecodeWorkerApi } from '../../src/shared/workers';

// The WebAssembly SIMD kernels widen 16-bit samples; the TypeScript path does it if they cannot load.
let kernelsPromise: Promise<DspKernels | undefined> | null = null;
function dspKernels(): Promise<DspKernels | undefined> {
  kernelsPromise ??= fetch(new URL('../../src/dsp/kernels.wasm', import.meta.url))
    .then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`HTTP ${r.status}`))))
    .then((bytes) => loadDspKernels(bytes))
    .catch((e: unknown) => {
      console.warn('The DSP kernels did not load; WAV samples are widened in TypeScript:', e);
      return undefined;
    });
  return kernelsPromise;
}

const api: DecodeWorkerApi = {
  async decode(file, fileName, targetRate, onProgress) {
    const decoded = await decodeAudioFile(file, fileName, targetRate, onProgress, { kernels: await dspKernels() });
    // Each channel owns its buffer, so moving them costs nothing and copies nothing.
    const buffers = [...decoded.channels, ...(decoded.peaks ? [decoded.peaks] : [])].map((c) => c.buffer as ArrayBuffer);
    return transfer(decoded, buffers);
  },
};

expose(api);

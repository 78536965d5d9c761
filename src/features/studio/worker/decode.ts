// Decode worker: one per import job, so cancelling terminates it (the only way to stop running WASM).
import { transfer } from 'comlink';
import { decodeAudioFile } from '../../../media/decode';
import { dspKernels } from '../../../media/dsp-kernels';
import type { DecodeWorkerApi } from '../contract';

export const decodeWorker: DecodeWorkerApi = {
  async decode(file, fileName, targetRate, onProgress) {
    // The kernels split 16-bit samples into channels and take their peaks; TypeScript does both if they cannot load.
    const decoded = await decodeAudioFile(file, fileName, targetRate, onProgress, { kernels: await dspKernels() });
    // Each channel owns its buffer, so moving them costs nothing and copies nothing.
    const buffers = [...decoded.channels, ...(decoded.peaks ? [decoded.peaks] : [])].map((c) => c.buffer as ArrayBuffer);
    return transfer(decoded, buffers);
  },
};


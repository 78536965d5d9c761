// Decode worker: one per import job, so cancelling terminates it (the only way to stop running WASM).
import { expose, transfer } from 'comlink';
import { decodeWorker } from '../../src/media/decode';
import type { DecodeWorkerApi } from '../../src/shared/workers';

const api: DecodeWorkerApi = {
  async decode(file, fileName, targetRate, onProgress) {
    const decoded = await decodeWorker.decode(file, fileName, targetRate, onProgress);
    // Each channel owns its buffer, so moving them costs nothing and copies nothing.
    const buffers = [...decoded.channels, ...(decoded.peaks ? [decoded.peaks] : [])].map((c) => c.buffer as ArrayBuffer);
    return transfer(decoded, buffers);
  },
};

expose(api);

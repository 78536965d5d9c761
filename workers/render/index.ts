import * as Comlink from 'comlink';
import { renderMix } from './render-mix';
import type { RenderWorkerApi } from '../../src/shared/workers';

const api: RenderWorkerApi = {
  async renderMix(req, onProgress) {
    const result = await renderMix(req, onProgress);
    return Comlink.transfer(result, [result.left.buffer, result.right.buffer, result.peaks.buffer]);
  },
};

Comlink.expose(api);

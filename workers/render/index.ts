import * as Comlink from 'comlink';
import { renderMasterBus, renderMix } from './render-mix';
import { masterMix } from '../../src/dsp/mastering';
import { measureLoudness } from '../../src/dsp/loudness';
import type { RenderWorkerApi } from '../../src/shared/workers';

const api: RenderWorkerApi = {
  async renderMix(req, onProgress) {
    const result = await renderMix(req, onProgress);
    return Comlink.transfer(result, [result.left.buffer, result.right.buffer, result.peaks.buffer]);
  },
  async renderMasterBus(req, onProgress) {
    const result = renderMasterBus(req, onProgress);
    return Comlink.transfer(result, [result.left.buffer, result.right.buffer, result.peaks.buffer]);
  },
  async master(req, onProgress) {
    const out = masterMix(req.left, req.right, req.sampleRate, req.settings, { onProgress: (fraction, stage) => void onProgress({ fraction, stage }) });
    return Comlink.transfer(out, [out.left.buffer, out.right.buffer]);
  },
  async measure(left, right, sampleRate) {
    return measureLoudness([left, right], sampleRate);
  },
};

Comlink.expose(api);

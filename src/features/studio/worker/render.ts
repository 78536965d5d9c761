import * as Comlink from 'comlink';
import { heldTrackAudio, renderMasterStreamed, renderMix } from './render-mix';
import { analyseTracks } from './analyse-tracks';
import { analyseForMastering, masterAnalysed, withInput, type MasteringAnalysis } from '../../../dsp/mastering';
import { measureLoudness } from '../../../dsp/loudness';
import type { RenderWorkerApi } from '../contract';
import { dspKernels } from '../../../media/dsp-kernels';
import { wholePercents } from '../../../shared/jobs';

// The last mastering analysis: an export's second pass (more headroom) only re-limits.
let cached: { key: string; analysis: MasteringAnalysis } | null = null;

export const renderWorker: RenderWorkerApi = {
  async warm() {
    await dspKernels();
  },
  async renderMix(req, onProgress) {
    await dspKernels();
    const result = await renderMix(req, wholePercents(onProgress));
    return Comlink.transfer(result, [result.left.buffer, result.right.buffer, result.peaks.buffer]);
  },
  async renderMasterStreamed(req, onProgress) {
    await dspKernels();
    const result = await renderMasterStreamed(req, wholePercents(onProgress));
    return Comlink.transfer(result, [result.left.buffer, result.right.buffer, result.peaks.buffer]);
  },
  async master(req, onProgress, input) {
    await dspKernels();
    const progress = wholePercents(onProgress);
    const report = (fraction: number, stage: string) => progress({ fraction, stage });
    report(0.1, 'analyse');
    let analysis = req.analysisKey && cached?.key === req.analysisKey ? cached.analysis : null;
    if (!analysis) {
      analysis = analyseForMastering(req.left, req.right, req.sampleRate, req.settings, { measureInput: !input });
      cached = req.analysisKey ? { key: req.analysisKey, analysis } : null;
    }
    const core = masterAnalysed(analysis, req.sampleRate, req.settings, {
      extraHeadroomDb: req.extraHeadroomDb,
      gainTrimDb: req.gainTrimDb,
      onProgress: report,
    });
    analysis.input ??= input ? await input() : measureLoudness([req.left, req.right], req.sampleRate);
    const out = { ...withInput(core, analysis.input), unmastered: { left: req.left, right: req.right } };
    return Comlink.transfer(out, [out.left.buffer, out.right.buffer, req.left.buffer, req.right.buffer]);
  },
  // Auto-mix analysis here, where the tracks this worker rendered are still in memory.
  analyseTracks: (req, onProgress) => analyseTracks(req, wholePercents(onProgress), (trackId) => heldTrackAudio(req.sessionId, trackId)),
  async measure(left, right, sampleRate) {
    await dspKernels();
    return measureLoudness(right ? [left, right] : [left], sampleRate);
  },
};


// Offline render of a session's mix: the same MixEngine as live playback, fed from IndexedDB.
import { MixEngine, renderOffline } from '../../src/dsp/mix-engine';
import { computePeaks } from '../../src/dsp/peaks';
import { loadTrackAudio } from '../../src/storage/sessions';
import { PEAKS_PER_SECOND } from '../../src/shared/session';
import type { ProgressCallback } from '../../src/shared/jobs';
import type { RenderRequest, RenderResult } from '../../src/shared/workers';

function levelsDb(left: Float32Array, right: Float32Array): { peakDb: number; rmsDb: number } {
  let peak = 0;
  let sum = 0;
  for (let i = 0; i < left.length; i++) {
    const l = left[i];
    const r = right[i];
    sum += l * l + r * r;
    const a = Math.max(Math.abs(l), Math.abs(r));
    if (a > peak) peak = a;
  }
  const rms = left.length ? Math.sqrt(sum / (2 * left.length)) : 0;
  return { peakDb: 20 * Math.log10(peak), rmsDb: 20 * Math.log10(rms) };
}

export async function renderMix(req: RenderRequest, onProgress: ProgressCallback): Promise<RenderResult> {
  const engine = new MixEngine(req.sampleRate);
  for (const [i, trackId] of req.trackIds.entries()) {
    const audio = await loadTrackAudio(req.sessionId, trackId);
    if (!audio) throw new Error(`Track ${trackId} has no stored audio; re-import it.`);
    engine.addTrack({ id: trackId, channels: audio.channels });
    onProgress({ fraction: (0.1 * (i + 1)) / req.trackIds.length, stage: 'loading audio' });
  }
  engine.setMix(req.mix);
  const start = req.startFrame ?? 0;
  const end = req.endFrame ?? engine.length;
  const { left, right } = renderOffline(engine, start, end, {
    onProgress: (f) => onProgress({ fraction: 0.1 + 0.9 * f, stage: 'rendering' }),
  });
  const peaks = computePeaks([left, right], req.sampleRate, PEAKS_PER_SECOND);
  const { peakDb, rmsDb } = levelsDb(left, right);
  if (req.peaksOnly) return { left: new Float32Array(0), right: new Float32Array(0), sampleRate: req.sampleRate, peaks, peakDb, rmsDb };
  return { left, right, sampleRate: req.sampleRate, peaks, peakDb, rmsDb };
}

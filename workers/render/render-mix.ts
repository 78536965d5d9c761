// Offline render of a session's mix: the same MixEngine as live playback, fed from IndexedDB.
import { MixEngine, renderMasterOffline, renderOffline, renderTracksOffline } from '../../src/dsp/mix-engine';
import { computePeaks } from '../../src/dsp/peaks';
import { activeDspKernels } from '../../src/dsp/kernels';
import { kernelLevels } from '../../src/dsp/kernel-streams';
import { loadTrackAudio } from '../../src/storage/sessions';
import { PEAKS_PER_SECOND } from '../../src/shared/session';
import type { ProgressCallback } from '../../src/shared/jobs';
import type { MasterBusRequest, RenderRequest, RenderResult } from '../../src/shared/workers';
import type { TrackAudio } from '../../src/shared/session';

// Track audio read back from IndexedDB, kept between renders: a re-render after each edit would
// otherwise read (and convert) every track again. A track's audio never changes once imported (a new
// import is a new track id), so entries never go stale; the least recently rendered go first.
const TRACK_CACHE_BYTES = 384 * 1024 * 1024;
const trackCache = new Map<string, TrackAudio>();
let trackCacheBytes = 0;

const audioBytes = (a: TrackAudio) => a.channels.reduce((sum, c) => sum + c.byteLength, 0);

/** The track's audio if this worker holds it, without reading anything. */
export function heldTrackAudio(sessionId: string, trackId: string): TrackAudio | undefined {
  return trackCache.get(`${sessionId}/${trackId}`);
}

async function cachedTrackAudio(sessionId: string, trackId: string): Promise<TrackAudio | undefined> {
  const key = `${sessionId}/${trackId}`;
  const hit = trackCache.get(key);
  if (hit) {
    // Re-inserted: a Map iterates in insertion order, so the first entry is the least recently used.
    trackCache.delete(key);
    trackCache.set(key, hit);
    return hit;
  }
  const audio = await loadTrackAudio(sessionId, trackId);
  if (!audio) return undefined;
  const bytes = audioBytes(audio);
  if (bytes > TRACK_CACHE_BYTES) return audio;
  for (const [k, a] of trackCache) {
    if (trackCacheBytes + bytes <= TRACK_CACHE_BYTES) break;
    trackCache.delete(k);
    trackCacheBytes -= audioBytes(a);
  }
  trackCache.set(key, audio);
  trackCacheBytes += bytes;
  return audio;
}

/** bus[i] += part[i] (an f32 sum either way), on the kernels when this worker has them. */
function levelsDb(left: Float32Array, right: Float32Array): { peakDb: number; rmsDb: number } {
  const kernels = activeDspKernels();
  if (kernels) {
    const { sumSquares, peak } = kernelLevels(kernels, left, right);
    const rms = left.length ? Math.sqrt(sumSquares / (2 * left.length)) : 0;
    return { peakDb: 20 * Math.log10(peak), rmsDb: 20 * Math.log10(rms) };
  }
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

function result(left: Float32Array, right: Float32Array, sampleRate: number, peaksOnly: boolean | undefined, withPeaks = true): RenderResult {
  const peaks = withPeaks ? computePeaks([left, right], sampleRate, PEAKS_PER_SECOND) : new Float32Array(0);
  // A partial sum (no peaks) is not what anyone hears: its levels are not measured either.
  const { peakDb, rmsDb } = withPeaks ? levelsDb(left, right) : { peakDb: NaN, rmsDb: NaN };
  if (peaksOnly) return { left: new Float32Array(0), right: new Float32Array(0), sampleRate, peaks, peakDb, rmsDb };
  return { left, right, sampleRate, peaks, peakDb, rmsDb };
}

export async function renderMix(req: RenderRequest, onProgress: ProgressCallback): Promise<RenderResult> {
  const engine = new MixEngine(req.sampleRate);
  for (const [i, trackId] of req.trackIds.entries()) {
    const audio = await cachedTrackAudio(req.sessionId, trackId);
    if (!audio) throw new Error(`Track ${trackId} has no stored audio; re-import it.`);
    engine.addTrack({ id: trackId, channels: audio.channels });
    onProgress({ fraction: (0.1 * (i + 1)) / req.trackIds.length, stage: 'loading audio' });
  }
  engine.setMix(req.mix);
  const start = req.startFrame ?? 0;
  const end = req.endFrame ?? engine.length;
  const opts = { onProgress: (f: number) => void onProgress({ fraction: 0.1 + 0.9 * f, stage: 'rendering' }) };
  if (req.part === 'tracks') {
    const bus = renderTracksOffline(engine, start, end, opts);
    return result(bus.left, bus.right, req.sampleRate, false, false);
  }
  const { left, right } = renderOffline(engine, start, end, opts);
  return result(left, right, req.sampleRate, req.peaksOnly);
}

export function renderMasterBus(req: MasterBusRequest, onProgress: ProgressCallback): RenderResult {
  const engine = new MixEngine(req.sampleRate);
  engine.setMix(req.mix);
  const { left, right } = renderMasterOffline(engine, req.left, req.right, { onProgress: (f) => void onProgress({ fraction: f, stage: 'master bus' }) }, req.plus);
  return result(left, right, req.sampleRate, req.peaksOnly);
}

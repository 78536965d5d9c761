// Offline render of a session's mix: the same MixEngine as live playback, fed from IndexedDB.
import { MasterLimiterStream, MixEngine, renderMasterOffline, renderOffline, renderTracksOffline, sumPlainTracksOnKernels } from '../../../dsp/mix-engine';
import { computePeaks } from '../../../dsp/peaks';
import { activeDspKernels } from '../../../dsp/kernels';
import { kernelLevels } from '../../../dsp/kernel-streams';
import { loadStoredChannels } from '../../../storage/sessions';
import { PEAKS_PER_SECOND } from '../../../shared/session';
import type { ProgressCallback } from '../../../shared/jobs';
import type { RenderRequest, RenderResult, StreamedMasterRequest, TrackSumChunk, TrackSumPort } from '../contract';
import type { TrackAudio } from '../../../shared/session';

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
  // As stored: a 16-bit track stays 16-bit (half the memory to fill and to read on every render; the kernels widen it).
  const stored = await loadStoredChannels(sessionId, trackId);
  if (!stored) return undefined;
  const audio: TrackAudio = { sessionId, trackId, sampleRate: stored.sampleRate, channels: stored.channels.data };
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

/** Sample peak and RMS of a stereo render in dBFS, on the kernels when this worker has them. */
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
    const port = req.stream;
    if (!port) {
      const bus = renderTracksOffline(engine, start, end, opts);
      return result(bus.left, bus.right, req.sampleRate, false, false);
    }
    // Streamed to the master bus's worker as it is rendered, in pieces of at least STREAM_FRAMES (each a copy of its
    // range, transferred); nothing large comes back. `posted` counts the output frames sent so far.
    let posted = 0;
    const post = (left: Float32Array, right: Float32Array, done: number) => {
      const l = left.slice(posted, done);
      const r = right.slice(posted, done);
      port.postMessage({ from: start + posted, left: l, right: r }, [l.buffer, r.buffer]);
      posted = done;
    };
    const bus = renderTracksOffline(engine, start, end, {
      ...opts,
      onFrames: (left, right, done) => {
        if (done - posted >= STREAM_FRAMES) post(left, right, done);
      },
    });
    if (bus.left.length > posted) post(bus.left, bus.right, bus.left.length);
    port.postMessage({ end: true }, []);
    port.close();
    return result(new Float32Array(0), new Float32Array(0), req.sampleRate, false, false);
  }
  const { left, right } = renderOffline(engine, start, end, opts);
  return result(left, right, req.sampleRate, req.peaksOnly);
}

/** Frames per piece of a streamed track sum: about 1.5 s at 44.1 kHz, a hundred-odd messages for a 3-minute mix. */
const STREAM_FRAMES = 1 << 16;

/** The pieces arriving on a port, in order, one per call. */
function pieces(port: TrackSumPort): () => Promise<TrackSumChunk> {
  const queue: TrackSumChunk[] = [];
  let wake: (() => void) | null = null;
  port.addEventListener('message', (e) => {
    queue.push(e.data);
    wake?.();
    wake = null;
  });
  port.start();
  return async () => {
    while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    return queue.shift()!;
  };
}

/**
 * This worker's tracks plus the other worker's streamed sum, through the master bus. When this worker's tracks only
 * scale and the master chain is the limiter alone (the kernels' fast paths), each piece is summed and limited as it
 * arrives, while the other worker still renders; otherwise the pieces are gathered into a whole sum, added to this
 * worker's own whole sum and mastered by renderMasterOffline. The samples are the same either way.
 */
export async function renderMasterStreamed(req: StreamedMasterRequest, onProgress: ProgressCallback): Promise<RenderResult> {
  try {
    return await masterStreamed(req, pieces(req.from), onProgress);
  } finally {
    req.from.close();
  }
}

async function masterStreamed(req: StreamedMasterRequest, next: () => Promise<TrackSumChunk>, onProgress: ProgressCallback): Promise<RenderResult> {
  const engine = new MixEngine(req.sampleRate);
  for (const trackId of req.trackIds) {
    const audio = await cachedTrackAudio(req.sessionId, trackId);
    if (!audio) throw new Error(`Track ${trackId} has no stored audio; re-import it.`);
    engine.addTrack({ id: trackId, channels: audio.channels });
  }
  engine.setMix(req.mix);
  engine.reset();
  const total = req.endFrame;
  const kernels = activeDspKernels();
  const plain = kernels && engine.masterIsLimiterOnly ? engine.plainTracks() : null;
  const report = (done: number) => onProgress({ fraction: total ? done / total : 1, stage: 'master bus' });
  if (!kernels || !plain) {
    const other = { left: new Float32Array(total), right: new Float32Array(total) };
    for (let piece = await next(); !('end' in piece); piece = await next()) {
      other.left.set(piece.left, piece.from);
      other.right.set(piece.right, piece.from);
    }
    const own = renderTracksOffline(engine, 0, total);
    const { left, right } = renderMasterOffline(engine, own.left, own.right, { onProgress: (f) => report(f * total) }, other);
    return result(left, right, req.sampleRate, req.peaksOnly);
  }
  const out = { left: new Float32Array(total), right: new Float32Array(total) };
  const stream = new MasterLimiterStream(engine, kernels, out);
  try {
    for (let piece = await next(); !('end' in piece); piece = await next()) {
      const m = piece.left.length;
      const own = plain.length ? sumPlainTracksOnKernels(kernels, plain, piece.from, piece.from + m, {}) : null;
      stream.push(own ?? piece, own ? piece : undefined, 0, m);
      report(piece.from + m);
    }
    stream.finish();
  } finally {
    stream.close();
  }
  return result(out.left, out.right, req.sampleRate, req.peaksOnly);
}


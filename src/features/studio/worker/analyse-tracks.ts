// Per-track auto-mix analysis, shared by the analysis worker and the render workers (which may hold the audio already).
import { analyseTrack, analyseTrackPcm16 } from '../../../dsp/track-features';
import { openStoredChannels, type StoredChannels } from '../../../storage/sessions';
import type { TrackFeatures } from '../../../shared/features';
import type { AnalysisWorkerApi } from '../contract';
import type { TrackAudio } from '../../../shared/session';
import { loadPffftPower } from '../../../dsp/pffft';
import { SPECTROGRAM } from '../../../shared/features';
import type { PowerFft } from '../../../dsp/stft';
import { dspKernels } from '../../../media/dsp-kernels';

// PFFFT (WASM SIMD) for the STFT, ~8× faster than fft.js; fft.js if it cannot load (the features are the same).
let fftPromise: Promise<PowerFft | undefined> | null = null;
function stftFft(): Promise<PowerFft | undefined> {
  fftPromise ??= loadPffftPower(SPECTROGRAM.fftSize, new URL('../../../../node_modules/@echogarden/pffft-wasm/dist/simd/pffft.wasm', import.meta.url).href).catch((e: unknown) => {
    console.warn('PFFFT did not load; the analysis uses fft.js:', e);
    return undefined;
  });
  return fftPromise;
}

/**
 * The features of each track. Audio this worker holds already (`inMemory`) is analysed as it is; the rest is read from
 * IndexedDB, each track's bytes asked for before the one ahead of it is analysed, so part of the read overlaps.
 */
export const analyseTracks = async (
  req: Parameters<AnalysisWorkerApi['analyseTracks']>[0],
  onProgress: Parameters<AnalysisWorkerApi['analyseTracks']>[1],
  inMemory: (trackId: string) => TrackAudio | undefined = () => undefined,
): Promise<Record<string, TrackFeatures>> => {
  const features: Record<string, TrackFeatures> = {};
  const count = req.trackIds.length;
  const [fft, kernels] = await Promise.all([stftFft(), dspKernels()]);
  const held = req.trackIds.map((id) => inMemory(id));
  const toRead = req.trackIds.filter((_, i) => !held[i]);
  // Every record to read at once (handles only), then the bytes one track ahead.
  const readers = toRead.length ? await openStoredChannels(req.sessionId, toRead) : [];
  const read = (r: number): Promise<StoredChannels> => readers[r]?.() ?? Promise.reject(new Error(`Track ${toRead[r]} has no stored audio; re-import it.`));
  let nextRead = 0;
  let pending = toRead.length ? read(nextRead++) : null;
  for (const [i, trackId] of req.trackIds.entries()) {
    onProgress({ fraction: i / count, stage: 'loading audio' });
    // Progress is per track: the bridge cancels by terminating this worker, so no signal is needed here.
    const opts = { fft, kernels, onProgress: (f: number) => void onProgress({ fraction: (i + f) / count, stage: 'analysing tracks' }) };
    const audio = held[i];
    if (audio) {
      features[trackId] = analyseTrack(audio.channels, audio.sampleRate, opts);
      continue;
    }
    const stored = await pending!;
    pending = nextRead < toRead.length ? read(nextRead++) : null;
    // A failed read ahead is reported when its turn comes, not as an unhandled rejection now.
    pending?.catch(() => undefined);
    const { channels, sampleRate } = stored;
    features[trackId] = channels.encoding === 'i16' ? analyseTrackPcm16(channels.data, sampleRate, opts) : analyseTrack(channels.data, sampleRate, opts);
  }
  onProgress({ fraction: 1, stage: 'analysing tracks' });
  return features;
};

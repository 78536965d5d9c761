// Per-track auto-mix analysis, off the main thread: audio comes from IndexedDB, features go back.
import * as Comlink from 'comlink';
import { analyseTrack } from '../../src/dsp/track-features';
import { loadTrackAudio } from '../../src/storage/sessions';
import type { TrackFeatures } from '../../src/shared/features';
import type { AnalysisWorkerApi } from '../../src/shared/workers';
import { loadPffftPower } from '../../src/dsp/pffft';
import { SPECTROGRAM } from '../../src/shared/features';
import type { PowerFft } from '../../src/dsp/stft';

// PFFFT (WASM SIMD) for the STFT, ~8× faster than fft.js; fft.js if it cannot load (the features are the same).
let fftPromise: Promise<PowerFft | undefined> | null = null;
function stftFft(): Promise<PowerFft | undefined> {
  fftPromise ??= loadPffftPower(SPECTROGRAM.fftSize, new URL('../../node_modules/@echogarden/pffft-wasm/dist/simd/pffft.wasm', import.meta.url).href).catch((e: unknown) => {
    console.warn('PFFFT did not load; the analysis uses fft.js:', e);
    return undefined;
  });
  return fftPromise;
}

const api: AnalysisWorkerApi = {
  async analyseTracks(req, onProgress) {
    const features: Record<string, TrackFeatures> = {};
    const count = req.trackIds.length;
    const fft = await stftFft();
    for (const [i, trackId] of req.trackIds.entries()) {
      onProgress({ fraction: i / count, stage: 'loading audio' });
      const audio = await loadTrackAudio(req.sessionId, trackId);
      if (!audio) throw new Error(`Track ${trackId} has no stored audio; re-import it.`);
      // Progress is per track: the bridge cancels by terminating this worker, so no signal is needed here.
      features[trackId] = analyseTrack(audio.channels, audio.sampleRate, {
        fft,
        onProgress: (f) => void onProgress({ fraction: (i + f) / count, stage: 'analysing tracks' }),
      });
    }
    onProgress({ fraction: 1, stage: 'analysing tracks' });
    return features;
  },
};

Comlink.expose(api);

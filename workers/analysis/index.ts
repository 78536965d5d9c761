// Per-track auto-mix analysis, off the main thread: audio comes from IndexedDB, features go back.
import * as Comlink from 'comlink';
import { analyseTrack } from '../../src/dsp/track-features';
import { loadTrackAudio } from '../../src/storage/sessions';
import type { TrackFeatures } from '../../src/shared/features';
import type { AnalysisWorkerApi } from '../../src/shared/workers';

const api: AnalysisWorkerApi = {
  async analyseTracks(req, onProgress) {
    const features: Record<string, TrackFeatures> = {};
    const count = req.trackIds.length;
    for (const [i, trackId] of req.trackIds.entries()) {
      onProgress({ fraction: i / count, stage: 'loading audio' });
      const audio = await loadTrackAudio(req.sessionId, trackId);
      if (!audio) throw new Error(`Track ${trackId} has no stored audio; re-import it.`);
      // Progress is per track: the bridge cancels by terminating this worker, so no signal is needed here.
      features[trackId] = analyseTrack(audio.channels, audio.sampleRate, {
        onProgress: (f) => void onProgress({ fraction: (i + f) / count, stage: 'analysing tracks' }),
      });
    }
    onProgress({ fraction: 1, stage: 'analysing tracks' });
    return features;
  },
};

Comlink.expose(api);

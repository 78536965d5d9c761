// The podcast desk's workers: analysis and encoding, the reel's clips, and the reel's mastering.
import { worker } from '../../bridge/jobs';
import type { RenderWorkerApi } from '../studio/contract';
import type { PodcastWorkerApi } from './contract';

/**
 * Two: an episode's chunks are analysed on both cores (and a reel's MP3 halves encoded). Each holds a warm ffmpeg
 * core and the VAD session, so workers started ahead wait two minutes; after real work they end at once, since
 * their grown heaps (VAD, decoder, encoder) are of no use to the stages that follow.
 */
export const podcastWorkers = worker<PodcastWorkerApi>('podcast', () => new Worker(new URL('../../../workers/podcast/index.ts', import.meta.url), { type: 'module', name: 'podcast' }), {
  concurrency: 2,
  idleMs: 120_000,
  endWhenIdle: true,
});

/**
 * One, for the reel's mastering, ended after each pass: the chain's working copies (tone-shaped mix, peak envelopes,
 * limiter output) are several times the reel, and a worker's memory is only sure to go when it ends.
 */
export const podcastMasterWorkers = worker<RenderWorkerApi>('podcast-master', () => new Worker(new URL('../../../workers/render/index.ts', import.meta.url), { type: 'module', name: 'podcast-master' }), {
  endWhenIdle: true,
});

/** One, kept ten minutes: it holds the reel's decoded clips, so the re-render after an edit decodes only what changed. */
export const podcastReelWorkers = worker<PodcastWorkerApi>('podcast-reel', () => new Worker(new URL('../../../workers/podcast/index.ts', import.meta.url), { type: 'module', name: 'podcast-reel' }), {
  idleMs: 600_000,
});

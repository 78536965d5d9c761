// Where each worker kind is started; the bundler sees these URLs and emits the worker chunks.
import { JobSystem } from './jobs';

export function createJobSystem(): JobSystem {
  return new JobSystem({
    // Two decoders keep both cores busy on a multi-file drop.
    decode: {
      concurrency: 2,
      create: () => new Worker(new URL('../../workers/decode/index.ts', import.meta.url), { type: 'module', name: 'decode' }),
    },
    // Two, so a render splits its tracks across both cores (and mastering its measurements). Kept a
    // minute: each keeps the track audio it rendered, so the re-render after an edit reads nothing back.
    render: {
      concurrency: 2,
      idleMs: 60_000,
      create: () => new Worker(new URL('../../workers/render/index.ts', import.meta.url), { type: 'module', name: 'render' }),
    },
    // Two: auto-mix splits a session's tracks over both cores.
    analysis: {
      concurrency: 2,
      create: () => new Worker(new URL('../../workers/analysis/index.ts', import.meta.url), { type: 'module', name: 'analysis' }),
    },
    // One: inference is milliseconds; kept a minute so the ORT session stays warm between runs.
    ml: {
      concurrency: 1,
      idleMs: 60_000,
      create: () => new Worker(new URL('../../workers/ml/index.ts', import.meta.url), { type: 'module', name: 'ml' }),
    },
    // Two, so an MP3 encodes its halves on both cores. Kept for two minutes: a master and its
    // verification take longer than the default idle time, and a restart recompiles the 32 MB core.
    export: {
      concurrency: 2,
      idleMs: 120_000,
      create: () => new Worker(new URL('../../workers/export/index.ts', import.meta.url), { type: 'module', name: 'export' }),
    },
    // Two: a podcast episode's chunks are analysed on both cores (and a reel's MP3 halves encoded).
    // Kept two minutes: each holds a warm ffmpeg core and the VAD session.
    podcast: {
      concurrency: 2,
      idleMs: 120_000,
      create: () => new Worker(new URL('../../workers/podcast/index.ts', import.meta.url), { type: 'module', name: 'podcast' }),
    },
    // One, for a podcast reel's mastering: the export ends it after each pass (JobSystem.retire), so the chain's
    // working copies do not stay for the encode and the check.
    'podcast-master': {
      concurrency: 1,
      create: () => new Worker(new URL('../../workers/render/index.ts', import.meta.url), { type: 'module', name: 'podcast-master' }),
    },
    // One, kept ten minutes: it holds the reel's decoded clips, so the re-render after an edit decodes only what changed.
    'podcast-reel': {
      concurrency: 1,
      idleMs: 600_000,
      create: () => new Worker(new URL('../../workers/podcast/index.ts', import.meta.url), { type: 'module', name: 'podcast-reel' }),
    },
  });
}

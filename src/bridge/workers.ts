// Where each worker kind is started; the bundler sees these URLs and emits the worker chunks.
import { JobSystem } from './jobs';

export function createJobSystem(): JobSystem {
  return new JobSystem({
    // Two decoders keep both cores busy on a multi-file drop.
    decode: {
      concurrency: 2,
      create: () => new Worker(new URL('../../workers/decode/index.ts', import.meta.url), { type: 'module', name: 'decode' }),
    },
    // Two, so a render splits its tracks across both cores.
    render: {
      concurrency: 2,
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
  });
}

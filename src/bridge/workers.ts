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
    // One encode at a time: each holds the master twice over (planar and interleaved) plus the core's heap.
    // Kept for two minutes: a master and its verification take longer than the default idle time,
    // and restarting means recompiling the 32 MB ffmpeg core.
    export: {
      concurrency: 1,
      idleMs: 120_000,
      create: () => new Worker(new URL('../../workers/export/index.ts', import.meta.url), { type: 'module', name: 'export' }),
    },
  });
}

// Where each worker kind is started; the bundler sees these URLs and emits the worker chunks.
import { JobSystem } from './jobs';

export function createJobSystem(): JobSystem {
  return new JobSystem({
    // Two decoders keep both cores busy on a multi-file drop.
    decode: {
      concurrency: 2,
      create: () => new Worker(new URL('../../workers/decode/index.ts', import.meta.url), { type: 'module', name: 'decode' }),
    },
    render: {
      concurrency: 1,
      create: () => new Worker(new URL('../../workers/render/index.ts', import.meta.url), { type: 'module', name: 'render' }),
    },
  });
}

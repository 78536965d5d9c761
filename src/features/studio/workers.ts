// The studio's workers. Other features run jobs on the render and analysis workers through these handles.
import { worker } from '../../bridge/jobs';
import type { AnalysisWorkerApi, DecodeWorkerApi, RenderWorkerApi } from './contract';

/** Two decoders keep both cores busy on a multi-file drop. */
export const decodeWorkers = worker<DecodeWorkerApi>('decode', () => new Worker(new URL('../../../workers/decode/index.ts', import.meta.url), { type: 'module', name: 'decode' }), {
  concurrency: 2,
});

/**
 * Two, so a render splits its tracks across both cores (and mastering its measurements). Kept a minute: each keeps
 * the track audio it rendered, so the re-render after an edit reads nothing back.
 */
export const renderWorkers = worker<RenderWorkerApi>('render', () => new Worker(new URL('../../../workers/render/index.ts', import.meta.url), { type: 'module', name: 'render' }), {
  concurrency: 2,
  idleMs: 60_000,
});

/** Two: auto-mix splits a session's tracks over both cores. */
export const analysisWorkers = worker<AnalysisWorkerApi>('analysis', () => new Worker(new URL('../../../workers/analysis/index.ts', import.meta.url), { type: 'module', name: 'analysis' }), {
  concurrency: 2,
});

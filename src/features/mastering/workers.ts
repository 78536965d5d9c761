// The export worker: ffmpeg.wasm encodes and decodes files.
import { worker } from '../../bridge/jobs';
import type { ExportWorkerApi } from './contract';

/**
 * Two, so an MP3 encodes its halves on both cores. Kept for two minutes: a master and its verification take longer
 * than the default idle time, and a restart recompiles the 32 MB core.
 */
export const exportWorkers = worker<ExportWorkerApi>('export', () => new Worker(new URL('../../../workers/export/index.ts', import.meta.url), { type: 'module', name: 'export' }), {
  concurrency: 2,
  idleMs: 120_000,
});

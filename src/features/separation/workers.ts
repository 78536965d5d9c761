// The separation workers: two, so a song's two halves separate on both cores.
import { worker } from '../../bridge/jobs';
import type { SeparationWorkerApi } from './contract';

/** Ended when idle: a separation's heap (segments of spectra, a model's weights) is hundreds of MB and never shrinks. */
export const separationWorkers = worker<SeparationWorkerApi>(
  'separation',
  () => new Worker(new URL('../../../workers/separation/index.ts', import.meta.url), { type: 'module', name: 'separation' }),
  { concurrency: 2, endWhenIdle: true },
);

// The ml worker: every auto-mix model runs there.
import { worker } from '../../bridge/jobs';
import type { MlWorkerApi } from './contract';

/** One: inference is milliseconds; kept a minute so the ORT session stays warm between runs. */
export const mlWorkers = worker<MlWorkerApi>('ml', () => new Worker(new URL('../../../workers/ml/index.ts', import.meta.url), { type: 'module', name: 'ml' }), {
  idleMs: 60_000,
});

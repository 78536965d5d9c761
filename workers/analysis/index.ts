// The analysis worker's entry: its code is the studio feature's (src/features/studio/worker/analysis.ts).
import { expose } from 'comlink';
import { analysisWorker } from '../../src/features/studio/worker/analysis';

expose(analysisWorker);

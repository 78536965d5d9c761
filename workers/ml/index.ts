// The ml worker's entry: its code is the automix feature's (src/features/automix/worker/ml.ts).
import { expose } from 'comlink';
import { mlWorker } from '../../src/features/automix/worker/ml';

expose(mlWorker);

// The separation worker's entry: its code is the separation feature's (src/features/separation/worker/separate.ts).
import { expose } from 'comlink';
import { separationWorker } from '../../src/features/separation/worker/separate';

expose(separationWorker);

// The export worker's entry: its code is the mastering feature's (src/features/mastering/worker/export.ts).
import { expose } from 'comlink';
import { exportWorker } from '../../src/features/mastering/worker/export';

expose(exportWorker);

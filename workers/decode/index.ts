// The decode worker's entry: its code is the studio feature's (src/features/studio/worker/decode.ts).
import { expose } from 'comlink';
import { decodeWorker } from '../../src/features/studio/worker/decode';

expose(decodeWorker);

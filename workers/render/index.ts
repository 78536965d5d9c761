// The render worker's entry: its code is the studio feature's (src/features/studio/worker/render.ts).
import { expose } from 'comlink';
import { renderWorker } from '../../src/features/studio/worker/render';

expose(renderWorker);

// The podcast worker's entry: its code is the podcast feature's (src/features/podcast/worker/podcast.ts).
import { expose } from 'comlink';
import { podcastWorker } from '../../src/features/podcast/worker/podcast';

expose(podcastWorker);

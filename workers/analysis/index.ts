// Per-track auto-mix analysis, off the main thread: audio comes from IndexedDB, features go back.
import * as Comlink from 'comlink';
import type { AnalysisWorkerApi } from '../../src/shared/workers';
import { analyseTracks } from './analyse-tracks';
import { wholePercents } from '../../src/shared/jobs';

const api: AnalysisWorkerApi = {
  analyseTracks: (req, onProgress) => analyseTracks(req, wholePercents(onProgress)),
};

Comlink.expose(api);

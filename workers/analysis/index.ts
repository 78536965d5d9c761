// Per-track auto-mix analysis, off the main thread: audio comes from IndexedDB, features go back.
import * as Comlink from 'comlink';
import type { AnalysisWorkerApi } from '../../src/shared/workers';
import { analyseTracks } from './analyse-tracks';

const api: AnalysisWorkerApi = {
  analyseTracks: (req, onProgress) => analyseTracks(req, onProgress),
};

Comlink.expose(api);

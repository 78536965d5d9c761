// Per-track auto-mix analysis, off the main thread: audio comes from IndexedDB, features go back.
import type { AnalysisWorkerApi } from '../contract';
import { analyseTracks } from './analyse-tracks';
import { wholePercents } from '../../../shared/jobs';

export const analysisWorker: AnalysisWorkerApi = {
  analyseTracks: (req, onProgress) => analyseTracks(req, wholePercents(onProgress)),
};


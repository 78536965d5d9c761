/** The one job system's vocabulary, shared by the bridge, the workers and the UI. */
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobProgress {
  /** 0…1, or null when the stage has no measurable extent yet. */
  fraction: number | null;
  stage?: string;
}

export type ProgressCallback = (p: JobProgress) => void;

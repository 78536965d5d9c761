/** The one job system's vocabulary, shared by the bridge, the workers and the UI. */
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobProgress {
  /** 0…1, or null when the stage has no measurable extent yet. */
  fraction: number | null;
  stage?: string;
}

export type ProgressCallback = (p: JobProgress) => void;

/**
 * A worker's progress callback that lets through whole percents and stage changes only: each call crosses the worker
 * boundary as a message, and a render reporting every block sent thousands, which kept the page's thread busy.
 */
export function wholePercents(onProgress: ProgressCallback): ProgressCallback {
  let last = '';
  return ({ fraction, stage }) => {
    const f = fraction === null ? null : Math.round(Math.min(1, Math.max(0, fraction)) * 100) / 100;
    const key = `${f}|${stage ?? ''}`;
    if (key === last) return;
    last = key;
    onProgress(stage === undefined ? { fraction: f } : { fraction: f, stage });
  };
}

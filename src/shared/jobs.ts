/** The one job system's vocabulary, shared by the bridge, the workers and the UI. */
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobProgress {
  /** 0…1, or null when the stage has no measurable extent yet. */
  fraction: number | null;
  stage?: string;
}

export type ProgressCallback = (p: JobProgress) => void;

/**
 * A worker's progress callback that lets through stage changes, the start and the end, and otherwise at most one
 * whole-percent change per `intervalMs`: each call crosses the worker boundary as a message and repaints the jobs
 * panel, and a render reporting every block used to send thousands, which kept the page's thread busy.
 */
export function wholePercents(onProgress: ProgressCallback, intervalMs = 100, now: () => number = Date.now): ProgressCallback {
  let lastFraction: number | null | undefined;
  let lastStage: string | undefined;
  let lastAt = -Infinity;
  return ({ fraction, stage }) => {
    const f = fraction === null ? null : Math.round(Math.min(1, Math.max(0, fraction)) * 100) / 100;
    if (f === lastFraction && stage === lastStage) return;
    const t = now();
    const due = stage !== lastStage || f === null || lastFraction === null || f === 0 || f === 1 || t - lastAt >= intervalMs;
    if (!due) return;
    lastFraction = f;
    lastStage = stage;
    lastAt = t;
    onProgress(stage === undefined ? { fraction: f } : { fraction: f, stage });
  };
}

// The Metrics page's numbers, from the stored events: counts, p50/p95 per job kind and stage, failures by error
// class, model runs by execution provider, storage over time. Pure, so every number is tested in Node.
import { EXPORT_KIND, IMPORT_KIND, METRICS_RETENTION, type JobEvent, type MetricEvent, type ModelRunEvent, type StorageEvent } from './events';

/**
 * The p-th percentile (0…100) of `values`, linearly interpolated between the closest ranks (numpy's default,
 * Excel's PERCENTILE.INC): p50 of [1, 2, 3, 4] is 2.5. NaN when there are none.
 */
export function percentile(values: readonly number[], p: number): number {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0 || !(p >= 0 && p <= 100)) return NaN;
  const sorted = [...finite].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

export interface Timing {
  count: number;
  /** null when there is nothing to time. */
  p50Ms: number | null;
  p95Ms: number | null;
}

function timing(values: readonly number[]): Timing {
  const none = values.length === 0;
  return { count: values.length, p50Ms: none ? null : percentile(values, 50), p95Ms: none ? null : percentile(values, 95) };
}

export interface KindSummary extends Timing {
  kind: string;
  done: number;
  failed: number;
  cancelled: number;
  /** Workers started ahead of their jobs: counted apart, never in the timings. */
  ahead: number;
  /** Of the done jobs, per named stage. */
  stages: (Timing & { stage: string })[];
}

export interface FailureSummary {
  kind: string;
  errorName: string;
  count: number;
  lastTs: number;
}

export interface ModelSummary extends Timing {
  modelId: string;
  ep: ModelRunEvent['ep'];
  fellBack: number;
}

export interface MetricsSummary {
  events: number;
  /** First and last event time; null without events. */
  from: number | null;
  to: number | null;
  /** Files imported: done decode jobs, one per file. */
  imports: number;
  /** Done export-worker jobs (encodes and their decode-back checks), workers started ahead not counted. */
  exportJobs: number;
  failures: number;
  modelRuns: number;
  /** Job kinds, most jobs first. Timings are queued-to-ended times of the done jobs. */
  kinds: KindSummary[];
  failuresByError: FailureSummary[];
  models: ModelSummary[];
  /** Storage samples, oldest first. */
  storage: StorageEvent[];
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const t of items) {
    const k = key(t);
    const list = out.get(k);
    if (list) list.push(t);
    else out.set(k, [t]);
  }
  return out;
}

function kindSummary(kind: string, jobs: JobEvent[]): KindSummary {
  const asked = jobs.filter((j) => !j.ahead);
  const done = asked.filter((j) => j.status === 'done');
  const stageTimes = new Map<string, number[]>();
  for (const j of done) {
    for (const s of j.stages) {
      const list = stageTimes.get(s.stage) ?? [];
      list.push(s.ms);
      stageTimes.set(s.stage, list);
    }
  }
  return {
    kind,
    ...timing(done.map((j) => j.durationMs)),
    done: done.length,
    failed: asked.filter((j) => j.status === 'failed').length,
    cancelled: asked.filter((j) => j.status === 'cancelled').length,
    ahead: jobs.length - asked.length,
    stages: [...stageTimes].map(([stage, ms]) => ({ stage, ...timing(ms) })),
  };
}

export function summarize(events: readonly MetricEvent[]): MetricsSummary {
  const jobs = events.filter((e): e is JobEvent => e.type === 'job');
  const runs = events.filter((e): e is ModelRunEvent => e.type === 'model');
  const storage = events.filter((e): e is StorageEvent => e.type === 'storage').sort((a, b) => a.ts - b.ts);
  const kinds = [...groupBy(jobs, (j) => j.kind)].map(([kind, list]) => kindSummary(kind, list));
  kinds.sort((a, b) => b.done + b.failed + b.cancelled - (a.done + a.failed + a.cancelled) || a.kind.localeCompare(b.kind));
  const failed = jobs.filter((j) => j.status === 'failed');
  const failuresByError = [...groupBy(failed, (j) => `${j.kind}\u0000${j.errorName ?? 'Error'}`).values()].map((list) => ({
    kind: list[0].kind,
    errorName: list[0].errorName ?? 'Error',
    count: list.length,
    lastTs: Math.max(...list.map((j) => j.ts)),
  }));
  failuresByError.sort((a, b) => b.count - a.count || b.lastTs - a.lastTs);
  const models = [...groupBy(runs, (r) => `${r.modelId}\u0000${r.ep}`).values()].map((list) => ({
    modelId: list[0].modelId,
    ep: list[0].ep,
    ...timing(list.map((r) => r.inferenceMs)),
    fellBack: list.filter((r) => r.fellBack).length,
  }));
  models.sort((a, b) => b.count - a.count || a.modelId.localeCompare(b.modelId));
  const times = events.map((e) => e.ts);
  const doneOf = (kind: string) => kinds.find((k) => k.kind === kind)?.done ?? 0;
  return {
    events: events.length,
    from: times.length ? Math.min(...times) : null,
    to: times.length ? Math.max(...times) : null,
    imports: doneOf(IMPORT_KIND),
    exportJobs: doneOf(EXPORT_KIND),
    failures: failed.filter((j) => !j.ahead).length,
    modelRuns: runs.length,
    kinds,
    failuresByError,
    models,
    storage,
  };
}

/** The downloadable JSON: every event as stored, and the numbers the page shows. */
export interface MetricsExport {
  format: 'ai-mixer-metrics';
  version: 1;
  exportedAt: string;
  retention: { maxEvents: number; maxAgeDays: number };
  summary: MetricsSummary;
  events: MetricEvent[];
}

export function metricsExport(events: readonly MetricEvent[], now: number): MetricsExport {
  return {
    format: 'ai-mixer-metrics',
    version: 1,
    exportedAt: new Date(now).toISOString(),
    retention: { maxEvents: METRICS_RETENTION.maxEvents, maxAgeDays: METRICS_RETENTION.maxAgeMs / 86_400_000 },
    summary: summarize(events),
    events: [...events],
  };
}

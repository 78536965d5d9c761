// Records the app's own use from the outside: it subscribes to the job system (every job's kind, status, times,
// stages and error class; never its label, which may name a file), takes model runs from a hook and samples storage
// use at start and after imports and exports. Nothing leaves the device; recording off keeps nothing.
import type { JobView } from '../../bridge/jobs';
import { storageUsage as originStorageUsage, type StorageUsage } from '../../storage/quota';
import type { AutomixRuntimeInfo } from '../../shared/automix';
import {
  EXPORT_KIND,
  IMPORT_KIND,
  STORAGE_KINDS,
  roundBytes,
  roundMs,
  safeErrorName,
  safeKind,
  safeModelId,
  safeStage,
  safeWeightEvents,
  type JobEvent,
  type MetricEvent,
  type StorageEvent,
  type StorageKind,
} from './events';
import { appendEvents, isRecordingOn, setRecording } from './metrics-store';

/** What the recorder needs of the job system. */
export interface JobSource {
  subscribe(listener: (jobs: readonly JobView[]) => void): () => void;
}

/** A finished model run, as the auto-mix ml job reports it. */
export interface ModelRun {
  modelId: string;
  runtime: Pick<AutomixRuntimeInfo, 'ep' | 'inferenceMs' | 'loadMs' | 'fallbackReason' | 'fetchEvents'>;
}

export interface RecorderOptions {
  /** Subscribes to finished model runs; returns its unsubscribe. */
  modelRuns?: (listener: (run: ModelRun) => void) => () => void;
  storageUsage?: () => Promise<StorageUsage>;
  /** Storage is sampled at most once per this (default a minute). */
  storageIntervalMs?: number;
  /** After an import or export, waits this long before sampling, so what it made is stored by then. */
  storageSettleMs?: number;
}

interface Tracked {
  startedAt: number;
  stage: string | undefined;
  stageAt: number;
  stages: Map<string, number>;
}

const byJobs = new WeakMap<JobSource, MetricsRecorder>();

/** The recorder started on this job system, or a new one started now (the Metrics desk finds the app's this way). */
export function metricsRecorderFor(jobs: JobSource, opts: RecorderOptions = {}): MetricsRecorder {
  let recorder = byJobs.get(jobs);
  if (!recorder) {
    recorder = new MetricsRecorder(jobs, opts);
    byJobs.set(jobs, recorder);
    void recorder.start();
  }
  return recorder;
}

export class MetricsRecorder {
  readonly #jobs: JobSource;
  readonly #opts: Required<Omit<RecorderOptions, 'modelRuns'>> & Pick<RecorderOptions, 'modelRuns'>;
  /** null until the setting is read; events meanwhile wait in #pending. */
  #on: boolean | null = null;
  #pending: MetricEvent[] = [];
  #writes: Promise<void> = Promise.resolve();
  #tracked = new Map<number, Tracked>();
  #recorded = new Set<number>();
  #unsubscribe: (() => void)[] = [];
  #listeners = new Set<() => void>();
  #lastSampleAt = -Infinity;
  #sampleTimer: ReturnType<typeof setTimeout> | undefined;
  #started: Promise<void> | undefined;
  #disposed = false;

  constructor(jobs: JobSource, opts: RecorderOptions = {}) {
    this.#jobs = jobs;
    this.#opts = {
      modelRuns: opts.modelRuns,
      storageUsage: opts.storageUsage ?? originStorageUsage,
      storageIntervalMs: opts.storageIntervalMs ?? 60_000,
      storageSettleMs: opts.storageSettleMs ?? 2_000,
    };
  }

  /** Subscribes at once (no job is missed), then reads the setting; resolves once it is known. */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    this.#unsubscribe.push(this.#jobs.subscribe((jobs) => this.#onJobs(jobs)));
    if (this.#opts.modelRuns) this.#unsubscribe.push(this.#opts.modelRuns((run) => this.#onModelRun(run)));
    const on = await isRecordingOn().catch((e: unknown) => {
      console.warn('Usage metrics: the setting could not be read, so nothing is recorded:', e);
      return false;
    });
    if (this.#disposed) return;
    this.#on = on;
    const pending = this.#pending;
    this.#pending = [];
    if (on) {
      this.#write(pending);
      this.#requestStorageSample(0);
    }
  }

  /** Whether events are kept; null until the setting is read. */
  get recording(): boolean | null {
    return this.#on;
  }

  /** Off deletes every event and keeps nothing more; the choice is stored, so it survives a reload. */
  setRecording(on: boolean): Promise<void> {
    this.#on = on;
    this.#pending = [];
    clearTimeout(this.#sampleTimer);
    this.#sampleTimer = undefined;
    const done = this.#enqueue(() => setRecording(on));
    if (on) this.#requestStorageSample(0);
    return done;
  }

  /** Resolves once every event recorded so far is written (or dropped). */
  flushed(): Promise<void> {
    return this.#writes;
  }

  /** Called after events are written or deleted; returns its unsubscribe. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  dispose(): void {
    this.#disposed = true;
    for (const off of this.#unsubscribe.splice(0)) off();
    clearTimeout(this.#sampleTimer);
    if (byJobs.get(this.#jobs) === this) byJobs.delete(this.#jobs);
  }

  #onJobs(jobs: readonly JobView[]): void {
    const now = Date.now();
    for (const job of jobs) {
      if (this.#recorded.has(job.id)) continue;
      let t = this.#tracked.get(job.id);
      if (!t && job.status === 'running') {
        t = { startedAt: now, stage: undefined, stageAt: now, stages: new Map() };
        this.#tracked.set(job.id, t);
      }
      if (t && job.progress.stage !== t.stage) {
        closeStage(t, now);
        t.stage = job.progress.stage;
        t.stageAt = now;
      }
      if (job.status === 'done' || job.status === 'failed' || job.status === 'cancelled') {
        this.#recorded.add(job.id);
        this.#tracked.delete(job.id);
        this.#onJobEnd(job, job.status, t);
      }
    }
    // Ids leave the list when the jobs panel trims or is cleared; ids are never reused.
    if (this.#recorded.size > jobs.length) {
      const present = new Set(jobs.map((j) => j.id));
      for (const id of this.#recorded) if (!present.has(id)) this.#recorded.delete(id);
    }
  }

  #onJobEnd(job: JobView, status: JobEvent['status'], t: Tracked | undefined): void {
    const endedAt = job.endedAt ?? Date.now();
    if (t) closeStage(t, endedAt);
    const event: JobEvent = {
      type: 'job',
      ts: endedAt,
      kind: safeKind(job.kind),
      status,
      durationMs: roundMs(endedAt - job.createdAt),
      stages: t ? [...t.stages].map(([stage, ms]) => ({ stage, ms: roundMs(ms) })) : [],
    };
    if (t) event.runMs = roundMs(endedAt - t.startedAt);
    if (status === 'failed') event.errorName = safeErrorName(job.errorName);
    if (job.ahead) event.ahead = true;
    this.#record(event);
    if (status === 'done' && !job.ahead && (job.kind === IMPORT_KIND || job.kind === EXPORT_KIND)) this.#requestStorageSample(this.#opts.storageSettleMs);
  }

  #onModelRun({ modelId, runtime }: ModelRun): void {
    // Called inside the auto-mix's own promise chain: nothing here may throw into it.
    if (typeof runtime?.inferenceMs !== 'number') return;
    this.#record({
      type: 'model',
      ts: Date.now(),
      modelId: safeModelId(modelId),
      ep: runtime.ep === 'webgpu' ? 'webgpu' : 'wasm',
      inferenceMs: roundMs(runtime.inferenceMs),
      loadMs: roundMs(runtime.loadMs),
      fellBack: runtime.ep === 'wasm' && runtime.fallbackReason !== null,
      weights: safeWeightEvents(runtime.fetchEvents ?? []),
    });
  }

  /** Samples now if the last sample is older than the interval, else once when it is up; one waits at a time. */
  #requestStorageSample(delayMs: number): void {
    if (this.#on !== true || this.#sampleTimer !== undefined || this.#disposed) return;
    const now = Date.now();
    const at = Math.max(now + delayMs, this.#lastSampleAt + this.#opts.storageIntervalMs);
    this.#sampleTimer = setTimeout(() => {
      this.#sampleTimer = undefined;
      // A timer may fire a millisecond early by the wall clock; the stamp never goes below the time it was due.
      this.#lastSampleAt = Math.max(Date.now(), at);
      void this.#sampleStorage(this.#lastSampleAt);
    }, at - now);
  }

  /** Stamped with when it was asked for, so samples are at least the interval apart. */
  async #sampleStorage(ts: number): Promise<void> {
    try {
      this.#record(storageEvent(await this.#opts.storageUsage(), ts));
    } catch (e) {
      console.warn('Usage metrics: storage use could not be read:', e);
    }
  }

  #record(event: MetricEvent): void {
    if (this.#on === null) this.#pending.push(event);
    else if (this.#on) this.#write([event]);
  }

  #write(events: MetricEvent[]): void {
    if (events.length) this.#enqueue(() => appendEvents(events)).catch(() => undefined);
  }

  /** Writes one after another, in the order recorded; a failed write (full storage) drops its events, never the app. */
  #enqueue(write: () => Promise<unknown>): Promise<void> {
    const run = this.#writes.then(write);
    const settled = run.then(
      () => {
        for (const l of this.#listeners) l();
      },
      (e: unknown) => console.warn('Usage metrics: not stored:', e),
    );
    this.#writes = settled;
    // The caller hears of its own failure; the queue goes on either way.
    return run.then(() => settled);
  }
}

function closeStage(t: Tracked, at: number): void {
  if (t.stage === undefined) return;
  const stage = safeStage(t.stage);
  t.stages.set(stage, (t.stages.get(stage) ?? 0) + Math.max(0, at - t.stageAt));
}

/** Per kind, the count and total of what the Storage dialog lists; names and ids are left behind. */
export function storageEvent(usage: StorageUsage, ts: number): StorageEvent {
  const items = Object.fromEntries(STORAGE_KINDS.map((k) => [k, { count: 0, bytes: 0 }])) as StorageEvent['items'];
  for (const item of usage.items) {
    const slot = items[item.kind as StorageKind];
    if (!slot) continue;
    slot.count++;
    slot.bytes += item.bytes;
  }
  for (const k of STORAGE_KINDS) items[k].bytes = roundBytes(items[k].bytes);
  const event: StorageEvent = { type: 'storage', ts, items };
  if (usage.usage !== undefined) event.usageBytes = roundBytes(usage.usage);
  if (usage.quota !== undefined) event.quotaBytes = roundBytes(usage.quota);
  return event;
}

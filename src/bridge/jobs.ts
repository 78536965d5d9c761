// The one job system: every long task (decode, render, later analysis, inference, encoding) runs
// here, in a comlink worker, with progress, status and a cancel that terminates the worker.
import * as Comlink from 'comlink';
import type { JobProgress, JobStatus, ProgressCallback } from '../shared/jobs';
import { CancelledError, errorMessage, isAbortError, WorkerCrashError } from '../shared/errors';

export interface JobView {
  id: number;
  kind: string;
  label: string;
  status: JobStatus;
  progress: JobProgress;
  error?: string;
  /** The failure's error class (`DecodeError`, `StorageFullError`…): unlike the message, it never names a file. */
  errorName?: string;
  /** A worker started ahead of its jobs (`startAhead`), not work a user asked for. */
  ahead?: true;
  createdAt: number;
  endedAt?: number;
}

/**
 * A kind of worker, declared once by the feature that owns it: `jobs.run(handle, …)` then types the worker's API from
 * the handle, so a caller can never pair a job with another worker's API.
 */
export interface WorkerHandle<Api> {
  /** Shown in the jobs panel and in crash messages. */
  readonly name: string;
  readonly create: () => Worker;
  /** Workers of this kind that may run at once; 2 cores here, so rarely more than 2. */
  readonly concurrency: number;
  /** Idle time before the worker is shut down; longer for workers with an expensive start (ffmpeg.wasm). */
  readonly idleMs: number;
  /**
   * Ends the worker as soon as its work is done (no job of the kind running, queued or started in the same turn),
   * rather than after `idleMs`: a WebAssembly heap never shrinks, so a stage whose heap grows large frees it for the
   * next. Workers started ahead (`startAhead`) wait their idle time as usual.
   */
  readonly endWhenIdle: boolean;
  /** Never set: carries the API type from the declaration to `run`. */
  readonly api?: Api;
}

export interface WorkerOptions {
  concurrency?: number;
  idleMs?: number;
  endWhenIdle?: boolean;
}

/**
 * Declares a kind of worker. It takes a factory, not a URL: Vite bundles a worker only where it sees
 * `new Worker(new URL('…', import.meta.url))` written out.
 */
export function worker<Api>(name: string, create: () => Worker, opts: WorkerOptions = {}): WorkerHandle<Api> {
  return { name, create, concurrency: opts.concurrency ?? 1, idleMs: opts.idleMs ?? IDLE_SHUTDOWN_MS, endWhenIdle: opts.endWhenIdle ?? false };
}

interface Slot {
  worker: Worker | null;
  remote: Comlink.Remote<unknown> | null;
  busy: boolean;
  idleTimer?: ReturnType<typeof setTimeout>;
  /** Rejects the running job when the worker dies under it. */
  onCrash?: (message: string) => void;
}

type Listener = (jobs: readonly JobView[]) => void;

export interface RunOptions<Api, T> {
  label: string;
  signal?: AbortSignal;
  task: (api: Comlink.Remote<Api>, onProgress: ProgressCallback) => Promise<T>;
}

const IDLE_SHUTDOWN_MS = 10_000;
type AnyHandle = WorkerHandle<unknown>;
const MAX_FINISHED_JOBS = 30;

export interface JobSystemOptions {
  /** Makes the workers instead of each handle's own `create` (tests run the real worker code over a MessageChannel). */
  create?: (handle: WorkerHandle<unknown>) => Worker;
}

export class JobSystem {
  readonly #create: (handle: AnyHandle) => Worker;
  #slots = new Map<AnyHandle, Slot[]>();
  #waiting = new Map<AnyHandle, Array<() => void>>();
  #jobs: JobView[] = [];
  #listeners = new Set<Listener>();
  #cancels = new Map<number, () => void>();
  #nextId = 1;

  constructor(opts: JobSystemOptions = {}) {
    this.#create = opts.create ?? ((handle) => handle.create());
  }

  get jobs(): readonly JobView[] {
    return this.#jobs;
  }

  /** Returns its own unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    listener(this.#jobs);
    return () => this.#listeners.delete(listener);
  }

  cancel(id: number): void {
    this.#cancels.get(id)?.();
  }

  clearFinished(): void {
    this.#jobs = this.#jobs.filter((j) => j.status === 'queued' || j.status === 'running');
    this.#emit();
  }

  run<Api, T>(handle: WorkerHandle<Api>, opts: RunOptions<Api, T>): Promise<T> {
    return this.#run(handle as AnyHandle, opts as RunOptions<unknown, T>, false);
  }

  async #run<T>(handle: AnyHandle, opts: RunOptions<unknown, T>, ahead: boolean): Promise<T> {
    const job: JobView = {
      id: this.#nextId++,
      kind: handle.name,
      label: opts.label,
      status: 'queued',
      progress: { fraction: null },
      createdAt: Date.now(),
      ...(ahead ? { ahead: true as const } : {}),
    };
    this.#jobs = [...this.#jobs, job];
    this.#emit();

    let cancelled = false;
    let cancelRunning: (() => void) | undefined;
    const cancel = () => {
      if (cancelled) return;
      cancelled = true;
      cancelRunning?.();
    };
    this.#cancels.set(job.id, cancel);
    if (opts.signal?.aborted) cancel();
    opts.signal?.addEventListener('abort', cancel, { once: true });

    try {
      const slot = await new Promise<Slot | null>((resolve, reject) => {
        cancelRunning = () => reject(new CancelledError());
        if (cancelled) return cancelRunning();
        void this.#acquire(handle, () => cancelled).then((s) => {
          if (cancelled && s) this.#release(handle, s, ahead);
          else resolve(s);
        });
      });
      if (cancelled || !slot) throw new CancelledError();
      try {
        this.#update(job, { status: 'running', progress: { fraction: 0 } });
        const remote = this.#ensureWorker(handle, slot!);
        // Progress comes over its own port, so its last messages can arrive after the result: an ended job keeps its end.
        const onProgress = Comlink.proxy((p: JobProgress) => {
          if (job.status === 'running') this.#update(job, { progress: p });
        });
        const result = await new Promise<T>((resolve, reject) => {
          // Terminating is the only way to stop WASM or a tight loop mid-flight.
          cancelRunning = () => {
            this.#kill(slot!);
            reject(new CancelledError());
          };
          slot!.onCrash = (message) => reject(new WorkerCrashError(message));
          opts.task(remote, onProgress).then(resolve, reject);
        });
        this.#update(job, { status: 'done', progress: { fraction: 1 }, endedAt: Date.now() });
        return result;
      } finally {
        slot!.onCrash = undefined;
        this.#release(handle, slot!, ahead);
      }
    } catch (e) {
      if (cancelled || isAbortError(e)) {
        this.#update(job, { status: 'cancelled', endedAt: Date.now() });
        throw e instanceof Error && isAbortError(e) ? e : new CancelledError();
      }
      this.#update(job, { status: 'failed', error: errorMessage(e), errorName: e instanceof Error ? e.name : 'Error', endedAt: Date.now() });
      throw e;
    } finally {
      this.#cancels.delete(job.id);
      opts.signal?.removeEventListener('abort', cancel);
      this.#trim();
    }
  }

  /**
   * Starts `count` workers of a kind ahead of the jobs that will need them (`task` loads what they need: a wasm
   * core, kernels), without waiting. A cancelled start is silent; a failed one is logged and left to the real job
   * to report. The workers then stay in their slots until their idle time, so the next jobs of the kind find them.
   */
  startAhead<Api>(handle: WorkerHandle<Api>, label: string, task: (api: Comlink.Remote<Api>) => Promise<unknown>, opts: { count?: number; signal?: AbortSignal } = {}): void {
    for (let k = 0; k < (opts.count ?? 1); k++) {
      const run: RunOptions<unknown, unknown> = { label, signal: opts.signal, task: (api) => task(api as Comlink.Remote<Api>) };
      this.#run(handle as AnyHandle, run, true).catch((e: unknown) => {
        if (!isAbortError(e)) console.warn(`${label}: the worker did not start ahead of its job:`, e);
      });
    }
  }

  /**
   * Terminates the idle workers of a kind now, rather than after their idle time: a WebAssembly heap never shrinks,
   * so a worker that grew for a finished job holds that memory until it ends. Busy workers are left to finish.
   */
  retire(handle: WorkerHandle<unknown>): void {
    for (const s of this.#slots.get(handle) ?? []) if (!s.busy) this.#kill(s);
  }

  /** Terminates every worker, e.g. on page hide in tests. */
  dispose(): void {
    for (const slots of this.#slots.values()) for (const s of slots) this.#kill(s);
  }

  #acquire(handle: AnyHandle, isCancelled: () => boolean): Promise<Slot | null> {
    let slots = this.#slots.get(handle);
    if (!slots) {
      slots = Array.from({ length: handle.concurrency }, () => ({ worker: null, remote: null, busy: false }));
      this.#slots.set(handle, slots);
    }
    const free = slots.find((s) => !s.busy);
    if (free) {
      free.busy = true;
      clearTimeout(free.idleTimer);
      return Promise.resolve(free);
    }
    return new Promise((resolve) => {
      const queue = this.#waiting.get(handle) ?? [];
      const wake = () => {
        if (isCancelled()) return resolve(null);
        resolve(this.#acquire(handle, isCancelled));
      };
      queue.push(wake);
      this.#waiting.set(handle, queue);
    });
  }

  #release(handle: AnyHandle, slot: Slot, ahead: boolean): void {
    slot.busy = false;
    clearTimeout(slot.idleTimer);
    // A job queued or started in this turn takes the worker before the timer fires (taking it clears the timer).
    slot.idleTimer = setTimeout(
      () => {
        if (!slot.busy) this.#kill(slot);
      },
      handle.endWhenIdle && !ahead ? 0 : handle.idleMs,
    );
    this.#waiting.get(handle)?.shift()?.();
  }

  #ensureWorker(handle: AnyHandle, slot: Slot): Comlink.Remote<unknown> {
    if (slot.worker && slot.remote) return slot.remote;
    const worker = this.#create(handle);
    const crashed = (why: string) => {
      // A dead worker becomes a failed job and a fresh worker next time, never a dead app.
      if (slot.worker !== worker) return;
      this.#kill(slot);
      slot.onCrash?.(`The ${handle.name} worker crashed: ${why}`);
    };
    worker.addEventListener('error', (ev) => {
      ev.preventDefault();
      crashed(ev.message || 'an uncaught error (possibly out of memory)');
    });
    worker.addEventListener('messageerror', () => crashed('a message could not be read'));
    slot.worker = worker;
    slot.remote = Comlink.wrap(worker);
    return slot.remote;
  }

  #kill(slot: Slot): void {
    clearTimeout(slot.idleTimer);
    if (slot.remote) slot.remote[Comlink.releaseProxy]?.();
    slot.worker?.terminate();
    slot.worker = null;
    slot.remote = null;
  }

  #update(job: JobView, patch: Partial<JobView>): void {
    const next = { ...job, ...patch };
    Object.assign(job, patch);
    this.#jobs = this.#jobs.map((j) => (j.id === job.id ? next : j));
    this.#emit();
  }

  #trim(): void {
    const finished = this.#jobs.filter((j) => j.status !== 'queued' && j.status !== 'running');
    if (finished.length > MAX_FINISHED_JOBS) {
      const drop = new Set(finished.slice(0, finished.length - MAX_FINISHED_JOBS).map((j) => j.id));
      this.#jobs = this.#jobs.filter((j) => !drop.has(j.id));
      this.#emit();
    }
  }

  #emit(): void {
    for (const l of this.#listeners) l(this.#jobs);
  }
}

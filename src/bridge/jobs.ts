// The one job system: every long task (decode, render, later analysis, inference, encoding) runs
// here, in a comlink worker, with progress, status and a cancel that terminates the worker.
import * as Comlink from 'comlink';
import type { JobProgress, JobStatus, ProgressCallback } from '../shared/jobs';
import { CancelledError, isAbortError } from '../shared/errors';

export interface JobView {
  id: number;
  kind: string;
  label: string;
  status: JobStatus;
  progress: JobProgress;
  error?: string;
  createdAt: number;
  endedAt?: number;
}

export interface WorkerKindSpec {
  create: () => Worker;
  /** Workers of this kind that may run at once; 2 cores here, so rarely more than 2. */
  concurrency: number;
  /** Idle time before the worker is shut down; longer for workers with an expensive start (ffmpeg.wasm). */
  idleMs?: number;
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
  kind: string;
  label: string;
  signal?: AbortSignal;
  task: (api: Comlink.Remote<Api>, onProgress: ProgressCallback) => Promise<T>;
}

const IDLE_SHUTDOWN_MS = 10_000;
const MAX_FINISHED_JOBS = 30;

export class JobSystem {
  #specs: Record<string, WorkerKindSpec>;
  #slots = new Map<string, Slot[]>();
  #waiting = new Map<string, Array<() => void>>();
  #jobs: JobView[] = [];
  #listeners = new Set<Listener>();
  #cancels = new Map<number, () => void>();
  #nextId = 1;

  constructor(specs: Record<string, WorkerKindSpec>) {
    this.#specs = specs;
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

  async run<Api, T>(opts: RunOptions<Api, T>): Promise<T> {
    const spec = this.#specs[opts.kind];
    if (!spec) throw new Error(`Unknown job kind "${opts.kind}"`);
    const job: JobView = {
      id: this.#nextId++,
      kind: opts.kind,
      label: opts.label,
      status: 'queued',
      progress: { fraction: null },
      createdAt: Date.now(),
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
        void this.#acquire(opts.kind, () => cancelled).then((s) => {
          if (cancelled && s) this.#release(opts.kind, s);
          else resolve(s);
        });
      });
      if (cancelled || !slot) throw new CancelledError();
      try {
        this.#update(job, { status: 'running', progress: { fraction: 0 } });
        const remote = this.#ensureWorker(opts.kind, slot!) as Comlink.Remote<Api>;
        const onProgress = Comlink.proxy((p: JobProgress) => this.#update(job, { progress: p }));
        const result = await new Promise<T>((resolve, reject) => {
          // Terminating is the only way to stop WASM or a tight loop mid-flight.
          cancelRunning = () => {
            this.#kill(slot!);
            reject(new CancelledError());
          };
          slot!.onCrash = (message) => reject(new Error(message));
          opts.task(remote, onProgress).then(resolve, reject);
        });
        this.#update(job, { status: 'done', progress: { fraction: 1 }, endedAt: Date.now() });
        return result;
      } finally {
        slot!.onCrash = undefined;
        this.#release(opts.kind, slot!);
      }
    } catch (e) {
      if (cancelled || isAbortError(e)) {
        this.#update(job, { status: 'cancelled', endedAt: Date.now() });
        throw e instanceof Error && isAbortError(e) ? e : new CancelledError();
      }
      this.#update(job, { status: 'failed', error: e instanceof Error ? e.message : String(e), endedAt: Date.now() });
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
  startAhead<Api>(kind: string, label: string, task: (api: Comlink.Remote<Api>) => Promise<unknown>, opts: { count?: number; signal?: AbortSignal } = {}): void {
    for (let k = 0; k < (opts.count ?? 1); k++) {
      this.run<Api, unknown>({ kind, label, signal: opts.signal, task: (api) => task(api) }).catch((e: unknown) => {
        if (!isAbortError(e)) console.warn(`${label}: the worker did not start ahead of its job:`, e);
      });
    }
  }

  /**
   * Terminates the idle workers of a kind now, rather than after their idle time: a WebAssembly heap never shrinks,
   * so a worker that grew for a finished job holds that memory until it ends. Busy workers are left to finish.
   */
  retire(kind: string): void {
    for (const s of this.#slots.get(kind) ?? []) if (!s.busy) this.#kill(s);
  }

  /** Terminates every worker, e.g. on page hide in tests. */
  dispose(): void {
    for (const slots of this.#slots.values()) for (const s of slots) this.#kill(s);
  }

  #acquire(kind: string, isCancelled: () => boolean): Promise<Slot | null> {
    let slots = this.#slots.get(kind);
    if (!slots) {
      slots = Array.from({ length: this.#specs[kind].concurrency }, () => ({ worker: null, remote: null, busy: false }));
      this.#slots.set(kind, slots);
    }
    const free = slots.find((s) => !s.busy);
    if (free) {
      free.busy = true;
      clearTimeout(free.idleTimer);
      return Promise.resolve(free);
    }
    return new Promise((resolve) => {
      const queue = this.#waiting.get(kind) ?? [];
      const wake = () => {
        if (isCancelled()) return resolve(null);
        resolve(this.#acquire(kind, isCancelled));
      };
      queue.push(wake);
      this.#waiting.set(kind, queue);
    });
  }

  #release(kind: string, slot: Slot): void {
    slot.busy = false;
    clearTimeout(slot.idleTimer);
    slot.idleTimer = setTimeout(() => {
      if (!slot.busy) this.#kill(slot);
    }, this.#specs[kind].idleMs ?? IDLE_SHUTDOWN_MS);
    this.#waiting.get(kind)?.shift()?.();
  }

  #ensureWorker(kind: string, slot: Slot): Comlink.Remote<unknown> {
    if (slot.worker && slot.remote) return slot.remote;
    const worker = this.#specs[kind].create();
    const crashed = (why: string) => {
      // A dead worker becomes a failed job and a fresh worker next time, never a dead app.
      if (slot.worker !== worker) return;
      this.#kill(slot);
      slot.onCrash?.(`The ${kind} worker crashed: ${why}`);
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

// The job system's contract with real comlink over MessageChannels: progress, cancel, crash → fresh worker.
import { describe, expect, it, vi } from 'vitest';
import * as Comlink from 'comlink';
import { JobSystem, worker, type WorkerHandle } from '../../src/bridge/jobs';
import { wholePercents, type JobProgress, type ProgressCallback } from '../../src/shared/jobs';

interface CountApi {
  count(to: number, onProgress: ProgressCallback): Promise<number>;
  hang(): Promise<never>;
  /** Reports progress without waiting for it, then returns: the report can arrive after the result. */
  late(onProgress: ProgressCallback): Promise<void>;
}

/** A Worker with the same surface the job system uses, running its API on the other end of a MessageChannel. */
class ChannelWorker extends EventTarget {
  static created = 0;
  static terminated = 0;
  #port: MessagePort;
  constructor() {
    super();
    ChannelWorker.created++;
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    port1.addEventListener('message', (ev) => this.dispatchEvent(new MessageEvent('message', { data: (ev as MessageEvent).data })));
    port1.start();
    const api: CountApi = {
      async count(to, onProgress) {
        for (let i = 1; i <= to; i++) {
          await onProgress({ fraction: i / to });
        }
        return to;
      },
      hang: () => new Promise<never>(() => {}),
      async late(onProgress) {
        setTimeout(() => void onProgress({ fraction: 0.3, stage: 'late' }), 0);
      },
    };
    Comlink.expose(api, port2);
  }
  postMessage(data: unknown, transfer?: Transferable[]): void {
    this.#port.postMessage(data, transfer ?? []);
  }
  terminate(): void {
    ChannelWorker.terminated++;
    this.#port.close();
  }
  crash(message: string): void {
    const ev = new Event('error', { cancelable: true }) as Event & { message: string };
    ev.message = message;
    this.dispatchEvent(ev);
  }
}

/** The handle of the system makeSystem made last. */
let count: WorkerHandle<CountApi>;

function makeSystem(workers: ChannelWorker[], concurrency = 1) {
  count = worker<CountApi>(
    'count',
    () => {
      const w = new ChannelWorker();
      workers.push(w);
      return w as unknown as Worker;
    },
    { concurrency },
  );
  return new JobSystem();
}

describe('JobSystem', () => {
  it('startAhead() starts workers without waiting, and the next jobs of the kind run on them', async () => {
    const workers: ChannelWorker[] = [];
    const sys = makeSystem(workers, 2);
    const started: number[] = [];
    sys.startAhead(count, 'start', async (api) => started.push(await api.count(1, Comlink.proxy(() => undefined))), { count: 2 });
    expect(sys.jobs.map((j) => j.label)).toEqual(['start', 'start']);
    await vi.waitFor(() => expect(sys.jobs.every((j) => j.status === 'done')).toBe(true));
    expect(started).toEqual([1, 1]);
    expect(workers).toHaveLength(2);
    const results = await Promise.all([1, 2].map((n) => sys.run(count, { label: 'real', task: (api, p) => api.count(n, p) })));
    expect(results).toEqual([1, 2]);
    expect(workers).toHaveLength(2);
    sys.dispose();
  });

  it('startAhead(): a cancelled start is silent, a failed one is only logged', async () => {
    const sys = makeSystem([]);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const ctrl = new AbortController();
    sys.startAhead(count, 'hangs', (api) => api.hang(), { signal: ctrl.signal });
    ctrl.abort();
    sys.startAhead(count, 'fails', () => Promise.reject(new Error('no core')));
    await vi.waitFor(() => expect(sys.jobs.map((j) => j.status)).toEqual(['cancelled', 'failed']));
    await vi.waitFor(() => expect(warn).toHaveBeenCalledTimes(1));
    expect(String(warn.mock.calls[0][0])).toContain('fails');
    warn.mockRestore();
    sys.dispose();
  });

  it('runs a job to done and reports progress', async () => {
    const sys = makeSystem([]);
    const seen: number[] = [];
    sys.subscribe((jobs) => {
      const f = jobs[0]?.progress.fraction;
      if (typeof f === 'number') seen.push(f);
    });
    const result = await sys.run(count, { label: 'count', task: (api, p) => api.count(4, p) });
    expect(result).toBe(4);
    expect(sys.jobs[0].status).toBe('done');
    expect(seen).toContain(0.5);
    sys.dispose();
  });

  it('retire() ends an idle worker now, and the next job starts a fresh one', async () => {
    const workers: ChannelWorker[] = [];
    const sys = makeSystem(workers);
    const terminatedBefore = ChannelWorker.terminated;
    await sys.run(count, { label: 'first', task: (api, p) => api.count(1, p) });
    expect(workers).toHaveLength(1);
    sys.retire(count);
    expect(ChannelWorker.terminated).toBe(terminatedBefore + 1);
    expect(await sys.run(count, { label: 'second', task: (api, p) => api.count(2, p) })).toBe(2);
    expect(workers).toHaveLength(2);
    sys.dispose();
  });

  it('a handle that ends when idle ends its worker after real work, passes it on to a queued job, and keeps one started ahead', async () => {
    const workers: ChannelWorker[] = [];
    const sys = new JobSystem();
    const freed = worker<CountApi>(
      'freed',
      () => {
        const w = new ChannelWorker();
        workers.push(w);
        return w as unknown as Worker;
      },
      { endWhenIdle: true },
    );
    const terminatedBefore = ChannelWorker.terminated;
    sys.startAhead(freed, 'warm', (api) => api.count(1, Comlink.proxy(() => undefined)));
    await new Promise((r) => setTimeout(r, 30));
    expect(ChannelWorker.terminated).toBe(terminatedBefore);
    // Two jobs queued at once share the warm worker; it ends once neither is left.
    const both = await Promise.all([1, 2].map((n) => sys.run(freed, { label: `job ${n}`, task: (api, p) => api.count(n, p) })));
    expect(both).toEqual([1, 2]);
    expect(workers).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 10));
    expect(ChannelWorker.terminated).toBe(terminatedBefore + 1);
    expect(await sys.run(freed, { label: 'after', task: (api, p) => api.count(3, p) })).toBe(3);
    expect(workers).toHaveLength(2);
    sys.dispose();
  });

  it('retire() leaves a busy worker running', async () => {
    const workers: ChannelWorker[] = [];
    const sys = makeSystem(workers);
    const terminatedBefore = ChannelWorker.terminated;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const job = sys.run(count, { label: 'busy',
      task: async (api, p) => {
        const n = await api.count(3, p);
        await gate;
        return n;
      },
    });
    await new Promise((r) => setTimeout(r, 20));
    sys.retire(count);
    expect(ChannelWorker.terminated).toBe(terminatedBefore);
    release();
    expect(await job).toBe(3);
    sys.dispose();
  });

  it('queues jobs beyond the concurrency and cancels a queued one without running it', async () => {
    const workers: ChannelWorker[] = [];
    const sys = makeSystem(workers);
    const ctrl = new AbortController();
    const first = sys.run(count, { label: 'hang', signal: ctrl.signal, task: (api) => api.hang() });
    const second = sys.run(count, { label: 'queued', task: (api, p) => api.count(2, p) });
    await new Promise((r) => setTimeout(r, 20));
    expect(sys.jobs.map((j) => j.status)).toEqual(['running', 'queued']);
    ctrl.abort();
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    expect(workers[0]).toBeDefined();
    // Cancelling terminated the running worker; the queued job gets a fresh one.
    await expect(second).resolves.toBe(2);
    expect(workers.length).toBe(2);
    expect(sys.jobs.map((j) => j.status)).toEqual(['cancelled', 'done']);
    sys.dispose();
  });

  it('a progress report arriving after the result leaves the finished job as it ended', async () => {
    const sys = makeSystem([]);
    await sys.run(count, { label: 'late', task: (api, p) => api.late(p) });
    await new Promise((r) => setTimeout(r, 20));
    expect(sys.jobs[0].status).toBe('done');
    expect(sys.jobs[0].progress).toEqual({ fraction: 1 });
    sys.dispose();
  });

  it('turns a crashed worker into a failed job with a message, then uses a fresh worker', async () => {
    const workers: ChannelWorker[] = [];
    const sys = makeSystem(workers);
    const doomed = sys.run(count, { label: 'doomed', task: (api) => api.hang() });
    await new Promise((r) => setTimeout(r, 20));
    workers[0].crash('out of memory');
    await expect(doomed).rejects.toThrow(/count worker crashed: out of memory/);
    expect(sys.jobs[0].status).toBe('failed');
    expect(sys.jobs[0].error).toMatch(/out of memory/);
    expect(sys.jobs[0].errorName).toBe('WorkerCrashError');
    await expect(sys.run(count, { label: 'after', task: (api, p) => api.count(1, p) })).resolves.toBe(1);
    expect(workers.length).toBe(2);
    sys.dispose();
  });

  it('cancels a queued job immediately', async () => {
    const sys = makeSystem([]);
    const running = sys.run(count, { label: 'hang', task: (api) => api.hang() });
    const ctrl = new AbortController();
    const queued = sys.run(count, { label: 'q', signal: ctrl.signal, task: (api, p) => api.count(1, p) });
    ctrl.abort();
    await expect(queued).rejects.toMatchObject({ name: 'AbortError' });
    expect(sys.jobs[1].status).toBe('cancelled');
    sys.cancel(sys.jobs[0].id);
    await expect(running).rejects.toMatchObject({ name: 'AbortError' });
    sys.dispose();
  });
});

describe('wholePercents', () => {
  it('passes stage changes, the ends, and one whole-percent change per interval', () => {
    const seen: JobProgress[] = [];
    let clock = 0;
    const report = wholePercents((p) => seen.push(p), 100, () => clock);
    // 10,000 calls over one second: 0, then one per 100 ms, then 1.
    for (let i = 0; i <= 10_000; i++) {
      clock = i / 10;
      report({ fraction: i / 10_000, stage: 'rendering' });
    }
    expect(seen.map((p) => p.fraction)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(seen[0]).toEqual({ fraction: 0, stage: 'rendering' });
    // A new stage goes through at once, a repeat never; an over-range fraction is clamped.
    report({ fraction: 1, stage: 'master bus' });
    report({ fraction: null, stage: 'master bus' });
    report({ fraction: null, stage: 'master bus' });
    report({ fraction: 1.7 });
    report({ fraction: 0.5 });
    expect(seen.slice(11)).toEqual([{ fraction: 1, stage: 'master bus' }, { fraction: null, stage: 'master bus' }, { fraction: 1 }]);
    clock += 100;
    report({ fraction: 0.5 });
    expect(seen.at(-1)).toEqual({ fraction: 0.5 });
  });
});

// The usage-metrics recorder on a real job system with the real decode and export worker code behind its handles:
// finished, failed and cancelled jobs become events with their kinds, times, stages and error classes, never their
// labels; model runs arrive through the ml job's hook; storage is sampled at most once per interval; the store keeps
// the newest 10,000 events within 90 days; and turning recording off deletes everything and survives a reload.
import 'fake-indexeddb/auto';
import { deleteDB } from 'idb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeWorkers } from '../../src/features/studio/workers';
import { decodeWorker } from '../../src/features/studio/worker/decode';
import { exportWorkers } from '../../src/features/mastering/workers';
import { mlWorkers } from '../../src/features/automix/workers';
import { onModelRun, runAutomixModel } from '../../src/features/automix';
import { MetricsRecorder } from '../../src/features/analytics/recorder';
import { appendEvents, isRecordingOn, listEvents } from '../../src/features/analytics/metrics-store';
import { METRICS_RETENTION, type JobEvent, type MetricEvent, type StorageEvent } from '../../src/features/analytics/events';
import type { MlWorkerApi } from '../../src/features/automix/contract';
import { neutralTrackOutput } from '../../src/shared/automix';
import { worker, type JobView, type WorkerHandle } from '../../src/bridge/jobs';
import type { ProgressCallback } from '../../src/shared/jobs';
import { closeDb } from '../../src/storage/db';
import { kvGet } from '../../src/storage/kv';
import { countMetricEvents, listMetricEvents } from '../../src/storage/metric-events';
import { DB_NAME } from '../../src/storage/schema';
import { harness, nativeExportWorker, sineWavFile } from './state-harness';

const RATE = 44100;
// Every label below names this; no stored event may.
const SECRET = 'Secret Song of Someone';

const wavFile = (name: string, seconds: number) => sineWavFile(name, { freq: 220, amp: 12000 / 32767, seconds });

/** The ml worker's contract answered as the real worker answers a neural run (ORT's wasm does not load in Node). */
const mlRunReporter: MlWorkerApi = {
  async runAutomix(req, onProgress) {
    onProgress({ fraction: null, stage: 'loading model' });
    onProgress({ fraction: 1, stage: 'inference' });
    const output = { tracks: req.input.tracks.map(() => neutralTrackOutput()), master: { gainDb: 0 } };
    return { output, runtime: { ep: 'wasm', fallbackReason: 'no WebGPU adapter', selfCheckDiff: null, fetchEvents: ['cache-hit'], loadMs: 41.6, inferenceMs: 3.4 } };
  },
};

const APIS = new Map<WorkerHandle<never>, object>([
  [decodeWorkers as WorkerHandle<never>, decodeWorker],
  [exportWorkers as WorkerHandle<never>, nativeExportWorker],
  [mlWorkers as WorkerHandle<never>, mlRunReporter],
]);

const emptyUsage = async () => ({ usage: 123_456, quota: 9_876_543_210, items: [{ kind: 'session' as const, id: 's', label: SECRET, bytes: 4_321_000 }] });

let recorders: MetricsRecorder[] = [];
function recorder(...args: ConstructorParameters<typeof MetricsRecorder>): MetricsRecorder {
  const r = new MetricsRecorder(...args);
  recorders.push(r);
  return r;
}

beforeEach(async () => {
  await closeDb();
  await deleteDB(DB_NAME);
});
afterEach(async () => {
  for (const r of recorders) r.dispose();
  recorders = [];
  await closeDb();
});

const jobEvents = (events: MetricEvent[]) => events.filter((e): e is JobEvent => e.type === 'job');

describe('MetricsRecorder', () => {
  it('turns a done, a failed and a cancelled job into events with kinds, durations, stages and error names, and no labels', async () => {
    const { jobs } = harness(APIS);
    const rec = recorder(jobs, { storageUsage: emptyUsage });
    await rec.start();

    const decoded = await jobs.run(decodeWorkers, {
      label: `Import ${SECRET}.wav`,
      task: (api, onProgress) => api.decode(wavFile(`${SECRET}.wav`, 1), `${SECRET}.wav`, RATE, onProgress),
    });
    expect(decoded.channels[0].length).toBe(RATE);

    const failing = jobs.run(decodeWorkers, {
      label: `Import ${SECRET} broken.wav`,
      task: (api, onProgress) => api.decode(new File([], `${SECRET} broken.wav`), `${SECRET} broken.wav`, RATE, onProgress),
    });
    // An empty file: the message names it, as the user needs; the event must not.
    await expect(failing).rejects.toThrow(SECRET);

    // Cancelled once it runs, as the jobs panel's button would.
    const ctrl = new AbortController();
    const watch = jobs.subscribe((list) => {
      if (list.some((j) => j.label.endsWith('long.wav') && j.status === 'running')) queueMicrotask(() => ctrl.abort());
    });
    const long = jobs.run(decodeWorkers, {
      label: `Import ${SECRET} long.wav`,
      signal: ctrl.signal,
      task: (api, onProgress) => api.decode(wavFile(`${SECRET} long.wav`, 20), `${SECRET} long.wav`, RATE, onProgress),
    });
    await expect(long).rejects.toMatchObject({ name: 'AbortError' });
    watch();
    await rec.flushed();

    const raw = await listMetricEvents();
    expect(JSON.stringify(raw)).not.toContain('Secret');
    expect(JSON.stringify(raw)).not.toMatch(/\.wav|broken|Import/);
    const events = jobEvents(await listEvents());
    expect(events.map((e) => [e.kind, e.status])).toEqual([
      ['decode', 'done'],
      ['decode', 'failed'],
      ['decode', 'cancelled'],
    ]);
    const views = jobs.jobs.filter((j) => j.kind === 'decode') as JobView[];
    for (const [i, e] of events.entries()) {
      // Queued to ended, as the job system timed it.
      expect(e.durationMs).toBe(views[i].endedAt! - views[i].createdAt);
      expect(e.ts).toBe(views[i].endedAt);
      expect(e.runMs).toBeGreaterThanOrEqual(0);
      expect(e.runMs!).toBeLessThanOrEqual(e.durationMs);
      const inStages = e.stages.reduce((sum, s) => sum + s.ms, 0);
      expect(inStages).toBeLessThanOrEqual(e.runMs! + 1);
    }
    expect(events[0].errorName).toBeUndefined();
    expect(events[1].errorName).toBe('DecodeError');
    expect(events[2].errorName).toBeUndefined();

    // Storage at start: counts and rounded sizes per kind, no names.
    const storage = (await listEvents()).filter((e): e is StorageEvent => e.type === 'storage');
    expect(storage).toHaveLength(1);
    expect(storage[0]).toMatchObject({ usageBytes: 120_000, quotaBytes: 9_900_000_000, items: { session: { count: 1, bytes: 4_300_000 }, export: { count: 0, bytes: 0 } } });
  });

  it('times each named stage of a job as its progress reports them, and keeps counts out of stage names', async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const stagedWorkers = worker<{ run(onProgress: ProgressCallback): Promise<void> }>('staged', () => {
      throw new Error('runs in the harness only');
    });
    const staged = {
      async run(onProgress: ProgressCallback) {
        onProgress({ fraction: 0, stage: 'loading audio' });
        await sleep(60);
        onProgress({ fraction: 0.5, stage: `decoding 3 clips of ${SECRET}.wav` });
        await sleep(30);
        onProgress({ fraction: 0.6, stage: 'decoding 3 clips' });
        await sleep(40);
        onProgress({ fraction: 0.9, stage: 'loading audio' });
        await sleep(20);
      },
    };
    const { jobs } = harness(new Map<WorkerHandle<never>, object>([[stagedWorkers as WorkerHandle<never>, staged]]));
    const rec = recorder(jobs, { storageUsage: emptyUsage });
    await rec.start();
    await jobs.run(stagedWorkers, { label: SECRET, task: (api, onProgress) => api.run(onProgress) });
    await rec.flushed();
    const [event] = jobEvents(await listEvents());
    expect(event.stages.map((s) => s.stage)).toEqual(['loading audio', 'other', 'decoding # clips']);
    const ms = Object.fromEntries(event.stages.map((s) => [s.stage, s.ms]));
    // A stage seen twice adds up; timer slack on a shared machine allows for more, never less.
    expect(ms['loading audio']).toBeGreaterThanOrEqual(75);
    expect(ms.other).toBeGreaterThanOrEqual(25);
    expect(ms['decoding # clips']).toBeGreaterThanOrEqual(35);
    expect(event.runMs!).toBeGreaterThanOrEqual(ms['loading audio'] + ms.other + ms['decoding # clips']);
    expect(JSON.stringify(await listMetricEvents())).not.toContain('Secret');
  });

  it('marks a worker started ahead, and names a failure by its error class, not its message', async () => {
    const failing = { async decode() { throw Object.assign(new Error(`${SECRET}.wav: out of memory`), { name: 'RangeError' }); } };
    const { jobs } = harness(new Map<WorkerHandle<never>, object>([[exportWorkers as WorkerHandle<never>, nativeExportWorker], [decodeWorkers as WorkerHandle<never>, failing]]));
    const rec = recorder(jobs, { storageUsage: emptyUsage });
    await rec.start();
    jobs.startAhead(exportWorkers, 'Start the encoder', (api) => api.warm('mp3', RATE));
    await expect(jobs.run(decodeWorkers, { label: `Import ${SECRET}.wav`, task: (api, onProgress) => api.decode(new File([], 'x'), 'x', RATE, onProgress) })).rejects.toThrow(SECRET);
    await new Promise((r) => setTimeout(r, 50));
    await rec.flushed();
    const events = jobEvents(await listEvents());
    expect(events.find((e) => e.kind === 'export')).toMatchObject({ status: 'done', ahead: true });
    expect(events.find((e) => e.kind === 'decode')).toMatchObject({ status: 'failed', errorName: 'RangeError' });
    expect(JSON.stringify(await listMetricEvents())).not.toContain('Secret');
  });

  it('records a model run with its model id, execution provider and times from the ml job hook', async () => {
    const { jobs } = harness(APIS);
    const rec = recorder(jobs, { storageUsage: emptyUsage, modelRuns: onModelRun });
    await rec.start();
    const features = { integratedLufs: -20 } as never;
    const { runtime } = await runAutomixModel(jobs, 'mixnet-int8', SECRET, { tracks: [{ features }, { features }] });
    expect(runtime?.ep).toBe('wasm');
    await rec.flushed();
    const events = await listEvents();
    expect(events.find((e) => e.type === 'model')).toEqual({ type: 'model', ts: expect.any(Number), modelId: 'mixnet-int8', ep: 'wasm', inferenceMs: 3, loadMs: 42, fellBack: true, weights: ['cache-hit'] });
    expect(jobEvents(events).find((e) => e.kind === 'ml')?.stages.map((s) => s.stage)).toEqual(['loading model', 'inference']);
    // A recorder disposed hears no more runs.
    rec.dispose();
    await runAutomixModel(jobs, 'mixnet-int8', SECRET, { tracks: [{ features }, { features }] });
    await rec.flushed();
    expect((await listEvents()).filter((e) => e.type === 'model')).toHaveLength(1);
  });

  it('samples storage at start and after imports, at most once per interval', async () => {
    const { jobs } = harness(APIS);
    let reads = 0;
    const usage = async () => {
      reads++;
      return emptyUsage();
    };
    const rec = recorder(jobs, { storageUsage: usage, storageIntervalMs: 1500, storageSettleMs: 0 });
    await rec.start();
    await vi.waitFor(() => expect(reads).toBe(1));
    const t0 = Date.now();
    for (let k = 0; k < 3; k++) await jobs.run(decodeWorkers, { label: 'Import', task: (api, p) => api.decode(wavFile('a.wav', 0.1), 'a.wav', RATE, p) });
    // Three imports inside the interval: one sample, once it is up.
    if (Date.now() - t0 < 1000) expect(reads).toBe(1);
    await vi.waitFor(() => expect(reads).toBe(2), { timeout: 5000 });
    await new Promise((r) => setTimeout(r, 300));
    expect(reads).toBe(2);
    await rec.flushed();
    const samples = (await listEvents()).filter((e) => e.type === 'storage');
    expect(samples).toHaveLength(2);
    expect(samples[1].ts - samples[0].ts).toBeGreaterThanOrEqual(1500);
  });

  it('turning recording off deletes every event, keeps nothing more and stays off after a reload', async () => {
    const { jobs } = harness(APIS);
    const rec = recorder(jobs, { storageUsage: emptyUsage });
    await rec.start();
    expect(rec.recording).toBe(true);
    const importOne = () => jobs.run(decodeWorkers, { label: 'Import', task: (api, p) => api.decode(wavFile('a.wav', 0.1), 'a.wav', RATE, p) });
    await importOne();
    await rec.flushed();
    expect(await countMetricEvents()).toBeGreaterThan(1);

    await rec.setRecording(false);
    expect(await countMetricEvents()).toBe(0);
    await importOne();
    await rec.flushed();
    expect(await countMetricEvents()).toBe(0);
    expect(await kvGet('analytics.recording')).toBe(false);

    // A reload: a new connection and a new recorder read the stored choice before recording anything.
    rec.dispose();
    await closeDb();
    const again = harness(APIS);
    const next = recorder(again.jobs, { storageUsage: emptyUsage });
    const importing = again.jobs.run(decodeWorkers, { label: 'Import', task: (api, p) => api.decode(wavFile('a.wav', 0.1), 'a.wav', RATE, p) });
    await next.start();
    await importing;
    await next.flushed();
    expect(next.recording).toBe(false);
    expect(await countMetricEvents()).toBe(0);

    // On again: recording resumes (the storage sample at once, then jobs).
    await next.setRecording(true);
    await importing;
    await again.jobs.run(decodeWorkers, { label: 'Import', task: (api, p) => api.decode(wavFile('a.wav', 0.1), 'a.wav', RATE, p) });
    await new Promise((r) => setTimeout(r, 20));
    await next.flushed();
    expect(await isRecordingOn()).toBe(true);
    expect(jobEvents(await listEvents())).toHaveLength(1);
  });

  it('an append from a tab that still thinks recording is on keeps nothing once it is off', async () => {
    const { jobs } = harness(APIS);
    const rec = recorder(jobs, { storageUsage: emptyUsage });
    await rec.start();
    await rec.setRecording(false);
    // Another tab's recorder, started before the switch, appends: the store reads the setting in the same transaction.
    expect(await appendEvents([{ type: 'job', ts: Date.now(), kind: 'decode', status: 'done', durationMs: 1, stages: [] }])).toBe(0);
    expect(await countMetricEvents()).toBe(0);
  });
});

describe('metricEvents retention', () => {
  it('keeps the newest 10,000 events and none older than 90 days', async () => {
    const now = Date.UTC(2026, 5, 1);
    const day = 86_400_000;
    const ev = (ts: number): MetricEvent => ({ type: 'job', ts, kind: 'render', status: 'done', durationMs: 1, stages: [] });
    // 5 events of 100 days ago, then 10,050 of the last few hours, oldest first.
    const old = Array.from({ length: 5 }, (_, i) => ev(now - 100 * day + i));
    const recent = Array.from({ length: METRICS_RETENTION.maxEvents + 50 }, (_, i) => ev(now - 3_600_000 * 5 + i * 1000));
    await appendEvents(old, now - 99 * day);
    expect(await countMetricEvents()).toBe(5);
    const t0 = performance.now();
    await appendEvents(recent, now);
    const appendMs = performance.now() - t0;
    expect(await countMetricEvents()).toBe(METRICS_RETENTION.maxEvents);
    const kept = await listEvents();
    // The 100-day-old ones went for their age, then the 50 oldest recent ones for the count.
    expect(kept[0].ts).toBe(recent[50].ts);
    expect(kept.at(-1)!.ts).toBe(recent.at(-1)!.ts);
    // A single append at the cap drops exactly one, the oldest.
    await appendEvents([ev(now + 1)], now + 1);
    const after = await listEvents();
    expect(after).toHaveLength(METRICS_RETENTION.maxEvents);
    expect(after[0].ts).toBe(recent[51].ts);
    console.info(`appending ${recent.length} events with the cap applied: ${appendMs.toFixed(0)} ms (fake-indexeddb)`);
  });
});

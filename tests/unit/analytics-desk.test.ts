// The Metrics desk on a real studio: imports decoded by the real decode worker code and mixed by the real render
// workers become the page's counts and p50/p95 times; the JSON download holds them without a file or track name;
// turning recording off empties the page and stays off for the next desk (a reload).
import 'fake-indexeddb/auto';
import { deleteDB } from 'idb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Studio } from '../../src/features/studio';
import { analysisWorkers, decodeWorkers, renderWorkers } from '../../src/features/studio/workers';
import { decodeWorker } from '../../src/features/studio/worker/decode';
import { renderWorker } from '../../src/features/studio/worker/render';
import { analysisWorker } from '../../src/features/studio/worker/analysis';
import { MetricsDesk, metricsRecorderFor } from '../../src/features/analytics';
import { closeDb } from '../../src/storage/db';
import { DB_NAME } from '../../src/storage/schema';
import type { WorkerHandle } from '../../src/bridge/jobs';
import { harness, recordingEngineHost, sineWavFile } from './state-harness';

const RATE = 44100;
const APIS = new Map<WorkerHandle<never>, object>([
  [decodeWorkers as WorkerHandle<never>, decodeWorker],
  [renderWorkers as WorkerHandle<never>, renderWorker],
  [analysisWorkers as WorkerHandle<never>, analysisWorker],
]);

const wavFile = (name: string, freq: number) => sineWavFile(name, { freq, amp: 8000 / 32767 });

beforeEach(async () => {
  await closeDb();
  await deleteDB(DB_NAME);
});
afterEach(async () => {
  await closeDb();
});

describe('MetricsDesk (state)', () => {
  it('shows imports, failures and p50/p95 per kind, downloads them as JSON without names, and off empties it for good', async () => {
    const { jobs } = harness(APIS);
    // As src/main.ts does: the recorder runs from the start, before any desk exists.
    const recorder = metricsRecorderFor(jobs);
    const studio = new Studio(jobs, { engineHost: recordingEngineHost().host });
    await studio.newSession('Private Session Name');
    await studio.importFiles([wavFile('Private Kick.wav', 60), wavFile('Private Pad.wav', 440), new File([], 'Private Broken.wav')]);
    await studio.renderMix();

    const desk = new MetricsDesk(studio);
    await desk.restore();
    expect(desk.recording).toBe(true);
    const s = desk.summary!;
    expect(s.imports).toBe(2);
    expect(s.failures).toBe(1);
    expect(s.failuresByError).toEqual([expect.objectContaining({ kind: 'decode', errorName: 'DecodeError', count: 1 })]);
    const decode = s.kinds.find((k) => k.kind === 'decode')!;
    expect([decode.done, decode.failed]).toEqual([2, 1]);
    expect(decode.p50Ms).toBeGreaterThanOrEqual(0);
    expect(decode.p95Ms!).toBeGreaterThanOrEqual(decode.p50Ms!);
    expect(s.kinds.find((k) => k.kind === 'render')?.done).toBeGreaterThanOrEqual(1);
    expect(s.storage.length).toBeGreaterThanOrEqual(1);

    const { fileName, json } = await desk.exportJson(Date.UTC(2026, 2, 4));
    expect(fileName).toBe('ai-mixer-metrics-2026-03-04.json');
    expect(json).not.toMatch(/Private|Kick|Pad|Broken|\.wav/);
    const doc = JSON.parse(json);
    expect(doc).toMatchObject({ format: 'ai-mixer-metrics', version: 1, exportedAt: '2026-03-04T00:00:00.000Z', summary: { imports: 2, failures: 1 } });
    expect(doc.events.length).toBe(s.events);

    await desk.setRecording(false);
    expect(desk.recording).toBe(false);
    expect(desk.summary!.events).toBe(0);
    expect(studio.notices.at(-1)?.message).toMatch(/off; every recorded event was deleted/);
    await studio.importFiles([wavFile('Later.wav', 100)]);
    await recorder.flushed();
    await desk.refresh();
    expect(desk.summary!.events).toBe(0);
    desk.dispose();
    recorder.dispose();
    await studio.dispose();

    // A reload: a new job system, recorder and desk read the stored choice.
    await closeDb();
    const again = harness(APIS);
    metricsRecorderFor(again.jobs);
    const next = new MetricsDesk(new Studio(again.jobs, { engineHost: recordingEngineHost().host }));
    await next.restore();
    expect(next.recording).toBe(false);
    expect(next.summary!.events).toBe(0);
    next.dispose();
  });
});

// The Metrics page's numbers and the privacy of what is recorded: percentiles against numpy's default method,
// the summary's counts and groupings, the exported JSON's shape, and the checks that keep names out of events.
import { describe, expect, it } from 'vitest';
import { METRICS_RETENTION, parseMetricEvent, roundBytes, safeErrorName, safeStage, type JobEvent, type MetricEvent } from '../../src/features/analytics/events';
import { metricsExport, percentile, summarize } from '../../src/features/analytics/stats';
import { formatBytes, formatMs } from '../../src/features/analytics/format';

const job = (kind: string, status: JobEvent['status'], durationMs: number, extra: Partial<JobEvent> = {}): JobEvent => ({
  type: 'job',
  ts: 1_700_000_000_000 + durationMs,
  kind,
  status,
  durationMs,
  runMs: durationMs,
  stages: [],
  ...extra,
});

describe('percentile', () => {
  it('interpolates between the closest ranks, as numpy.percentile does by default', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    // numpy.percentile(range(1, 21), 95) == 19.05
    expect(percentile(Array.from({ length: 20 }, (_, i) => i + 1), 95)).toBeCloseTo(19.05, 10);
    // numpy.percentile([15, 20, 35, 40, 50], [50, 95]) == [35, 48]
    expect(percentile([50, 15, 40, 20, 35], 50)).toBe(35);
    expect(percentile([50, 15, 40, 20, 35], 95)).toBeCloseTo(48, 10);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([3, 1, 2], 0)).toBe(1);
    expect(percentile([3, 1, 2], 100)).toBe(3);
  });

  it('is NaN with nothing to rank or an out-of-range p, and skips non-finite values', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(percentile([1, 2], 101)).toBeNaN();
    expect(percentile([NaN, 4, Infinity, 2], 50)).toBe(3);
  });
});

describe('summarize', () => {
  const events: MetricEvent[] = [
    job('decode', 'done', 100, { stages: [{ stage: 'reading', ms: 60 }, { stage: 'resampling', ms: 40 }] }),
    job('decode', 'done', 300, { stages: [{ stage: 'reading', ms: 200 }] }),
    job('decode', 'failed', 50, { errorName: 'DecodeError' }),
    job('decode', 'failed', 70, { errorName: 'DecodeError' }),
    job('export', 'done', 2000),
    job('export', 'done', 4000),
    job('export', 'cancelled', 900),
    // Started ahead: counted apart, never timed.
    job('export', 'done', 9000, { ahead: true }),
    job('render', 'failed', 10, { errorName: 'WorkerCrashError' }),
    { type: 'model', ts: 1, modelId: 'mixnet-int8', ep: 'wasm', inferenceMs: 4, loadMs: 30, fellBack: true, weights: ['cache-hit'] },
    { type: 'model', ts: 2, modelId: 'mixnet-int8', ep: 'wasm', inferenceMs: 6, loadMs: 1, fellBack: false, weights: [] },
    { type: 'storage', ts: 5, items: { session: { count: 1, bytes: 2e6 }, export: { count: 0, bytes: 0 }, model: { count: 0, bytes: 0 }, votes: { count: 0, bytes: 0 }, feature: { count: 0, bytes: 0 } } },
    { type: 'storage', ts: 3, items: { session: { count: 1, bytes: 1e6 }, export: { count: 0, bytes: 0 }, model: { count: 0, bytes: 0 }, votes: { count: 0, bytes: 0 }, feature: { count: 0, bytes: 0 } } },
  ];

  it('counts per kind and times the done jobs a user asked for', () => {
    const s = summarize(events);
    expect(s.events).toBe(events.length);
    expect([s.imports, s.exportJobs, s.failures, s.modelRuns]).toEqual([2, 2, 3, 2]);
    expect(s.kinds.map((k) => k.kind)).toEqual(['decode', 'export', 'render']);
    const decode = s.kinds[0];
    expect([decode.done, decode.failed, decode.cancelled, decode.ahead]).toEqual([2, 2, 0, 0]);
    expect(decode.p50Ms).toBe(200);
    expect(decode.p95Ms).toBe(290);
    expect(decode.stages).toEqual([
      { stage: 'reading', count: 2, p50Ms: 130, p95Ms: 193 },
      { stage: 'resampling', count: 1, p50Ms: 40, p95Ms: 40 },
    ]);
    const exp = s.kinds[1];
    expect([exp.done, exp.cancelled, exp.ahead, exp.p50Ms, exp.p95Ms]).toEqual([2, 1, 1, 3000, 3900]);
    // Nothing finished: no time to show, rather than a zero.
    expect([s.kinds[2].p50Ms, s.kinds[2].p95Ms]).toEqual([null, null]);
  });

  it('groups failures by kind and error class, models by id and EP, and orders storage samples by time', () => {
    const s = summarize(events);
    expect(s.failuresByError.map((f) => [f.kind, f.errorName, f.count])).toEqual([
      ['decode', 'DecodeError', 2],
      ['render', 'WorkerCrashError', 1],
    ]);
    expect(s.models).toEqual([{ modelId: 'mixnet-int8', ep: 'wasm', count: 2, p50Ms: 5, p95Ms: 5.9, fellBack: 1 }]);
    expect(s.storage.map((e) => e.ts)).toEqual([3, 5]);
    expect(summarize([])).toMatchObject({ events: 0, from: null, to: null, kinds: [], storage: [] });
  });

  it('exports every event with the summary, the retention and the time, as JSON', () => {
    const doc = JSON.parse(JSON.stringify(metricsExport(events, Date.UTC(2026, 0, 2, 3, 4, 5))));
    expect(Object.keys(doc).sort()).toEqual(['events', 'exportedAt', 'format', 'retention', 'summary', 'version']);
    expect(doc.format).toBe('ai-mixer-metrics');
    expect(doc.version).toBe(1);
    expect(doc.exportedAt).toBe('2026-01-02T03:04:05.000Z');
    expect(doc.retention).toEqual({ maxEvents: METRICS_RETENTION.maxEvents, maxAgeDays: 90 });
    expect(doc.events).toHaveLength(events.length);
    expect(doc.summary.kinds[0].kind).toBe('decode');
    // Every exported event reads back as an event.
    expect(doc.events.every((e: unknown) => parseMetricEvent(e) !== null)).toBe(true);
  });
});

describe('what an event may hold', () => {
  it('keeps stage names as categories and turns anything that looks like a file name or text into "other"', () => {
    expect(safeStage('decoding 3 clips')).toBe('decoding # clips');
    expect(safeStage('encoding MP3 320k')).toBe('encoding MP3 320k');
    expect(safeStage('loading the decoder and the voice-activity model')).toBe('loading the decoder and the voice-activity model');
    expect(safeStage('decoding My Song.wav')).toBe('other');
    expect(safeStage('reading /home/me/take_1')).toBe('other');
    expect(safeStage('x'.repeat(65))).toBe('other');
  });

  it('keeps error class names only', () => {
    expect(safeErrorName('DecodeError')).toBe('DecodeError');
    expect(safeErrorName('kick.wav: not audio')).toBe('Error');
    expect(safeErrorName(undefined)).toBe('Error');
  });

  it('rounds sizes to two significant figures', () => {
    expect(roundBytes(1_234_567)).toBe(1_200_000);
    expect(roundBytes(987)).toBe(990);
    expect(roundBytes(-5)).toBe(0);
    expect(roundBytes(NaN)).toBe(0);
  });

  it('reads back only records of a known shape, without extra fields', () => {
    expect(parseMetricEvent({ type: 'job', ts: 1, kind: 'decode', status: 'done', durationMs: 5, stages: [], label: 'Import kick.wav' })).toEqual({
      type: 'job',
      ts: 1,
      kind: 'decode',
      status: 'done',
      durationMs: 5,
      stages: [],
    });
    expect(parseMetricEvent({ type: 'job', ts: 1, kind: 'decode', status: 'exploded', durationMs: 5, stages: [] })).toBeNull();
    expect(parseMetricEvent({ type: 'job', ts: 1, kind: 'decode', status: 'failed', durationMs: 5, stages: [], errorName: 'a b.wav' })).toBeNull();
    expect(parseMetricEvent({ type: 'other', ts: 1 })).toBeNull();
    expect(parseMetricEvent(null)).toBeNull();
  });

  it('writes times and sizes as the page shows them', () => {
    expect([formatMs(null), formatMs(420.4), formatMs(3210), formatMs(12_340), formatMs(65_000)]).toEqual(['–', '420 ms', '3.21 s', '12.3 s', '1 min 5 s']);
    expect([formatBytes(undefined), formatBytes(512), formatBytes(1_200_000), formatBytes(34_000_000_000)]).toEqual(['–', '512 B', '1.2 MB', '34 GB']);
  });
});

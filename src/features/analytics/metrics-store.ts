// The analytics feature's records: its events in the metricEvents store (within METRICS_RETENTION) and its one
// setting in kv. Events are read back through parseMetricEvent, so a record of another shape is skipped, not shown.
import { appendMetricEvents, clearMetricEvents, listMetricEvents } from '../../storage/metric-events';
import { kvGet, kvPut } from '../../storage/kv';
import { METRICS_RETENTION, parseMetricEvent, type MetricEvent } from './events';

declare module '../../storage/kv' {
  interface KvSchema {
    /** "Record usage metrics on this device"; absent means on. */
    'analytics.recording': boolean;
  }
}

export const RECORDING_KEY = 'analytics.recording';

export async function isRecordingOn(): Promise<boolean> {
  return (await kvGet(RECORDING_KEY)) !== false;
}

/** Appends unless recording is off, read in the same transaction; resolves to how many were kept. */
export function appendEvents(events: readonly MetricEvent[], now = Date.now()): Promise<number> {
  return appendMetricEvents(events, METRICS_RETENTION, { now, unlessOff: RECORDING_KEY });
}

export async function listEvents(): Promise<MetricEvent[]> {
  return (await listMetricEvents()).map(parseMetricEvent).filter((e): e is MetricEvent => e !== null);
}

/** Off first, so no append that starts after it keeps anything; then every event is deleted. */
export async function setRecording(on: boolean): Promise<void> {
  await kvPut(RECORDING_KEY, on);
  if (!on) await clearMetricEvents();
}

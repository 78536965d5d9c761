// The metricEvents store: usage metrics kept on this device, appended and never edited. What an event holds belongs
// to the analytics feature; here events are appended within a retention, read in time order and cleared.
import { openDb, writeAtomically } from './db';
import type { KvKey } from './kv';
import { wrapQuota } from './quota';
import type { MetricEventRecord } from './schema';

export interface MetricRetention {
  /** The newest this many events are kept. */
  maxEvents: number;
  /** Events older than this are dropped. */
  maxAgeMs: number;
}

export interface AppendOptions {
  now?: number;
  /** Appends nothing while this kv key holds `false`, read in the same transaction (another tab may have turned recording off). */
  unlessOff?: KvKey;
}

/**
 * Appends `records` in one transaction, then drops what falls outside `retention`: first everything older than
 * `maxAgeMs`, then the oldest beyond `maxEvents`. Resolves to the number appended (0 when `unlessOff` is off).
 */
export function appendMetricEvents(records: readonly MetricEventRecord[], retention: MetricRetention, opts: AppendOptions = {}): Promise<number> {
  const now = opts.now ?? Date.now();
  return wrapQuota(() =>
    writeAtomically(['metricEvents', 'kv'], async (tx) => {
      if (opts.unlessOff !== undefined && (await tx.objectStore('kv').get(opts.unlessOff)) === false) return 0;
      const store = tx.objectStore('metricEvents');
      for (const r of records) await store.add(r);
      const byTime = store.index('ts');
      for (const key of await byTime.getAllKeys(IDBKeyRange.upperBound(now - retention.maxAgeMs, true))) await store.delete(key);
      let excess = (await store.count()) - retention.maxEvents;
      let c = excess > 0 ? await byTime.openKeyCursor() : null;
      while (c && excess-- > 0) {
        await store.delete(c.primaryKey);
        c = excess > 0 ? await c.continue() : null;
      }
      return records.length;
    }),
  );
}

/** Every event, oldest first (by its time, then by insertion). */
export async function listMetricEvents(): Promise<MetricEventRecord[]> {
  return (await openDb()).getAllFromIndex('metricEvents', 'ts');
}

export async function countMetricEvents(): Promise<number> {
  return (await openDb()).count('metricEvents');
}

export function clearMetricEvents(): Promise<void> {
  // Deleting frees space, but the transaction itself can still meet a full disk.
  return wrapQuota(async () => {
    await (await openDb()).clear('metricEvents');
  });
}

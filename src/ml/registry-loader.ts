// The browser's way to open a registry model: weights through the hash-checked IndexedDB cache
// (from the entry's URL, or the app's own copy), on the provider the device self-check chose.
import type { AutomixRunOptions, AutomixRuntimeInfo, ModelMeta } from '../shared/automix';
import { DEFAULT_ML_ENV, sessionForModel } from './model-runtime';
import type { ModelSession, TensorData } from './ort';

export async function openRegistryModel(
  meta: ModelMeta,
  appUrl: string,
  checkFeeds: () => Record<string, TensorData>,
  opts: AutomixRunOptions,
): Promise<{ session: ModelSession; runtime: Omit<AutomixRuntimeInfo, 'inferenceMs'> }> {
  const { session, report } = await sessionForModel(meta, appUrl, checkFeeds, opts.ml ?? DEFAULT_ML_ENV, {
    onProgress: (p) => opts.onLoadProgress?.(p),
  });
  return {
    session,
    runtime: {
      ep: report.ep,
      fallbackReason: report.check?.reason ?? null,
      selfCheckDiff: report.check?.maxAbsDiff ?? null,
      fetchEvents: report.fetchEvents,
      loadMs: report.loadMs,
    },
  };
}

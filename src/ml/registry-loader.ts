// The browser's way to open a registry model of any task: weights through the hash-checked IndexedDB cache
// (from the entry's URL, or the app's own copy), on the provider the device self-check chose.
import type { ModelMeta } from '../shared/model-meta';
import type { ModelFetchProgress } from './model-fetch';
import { DEFAULT_ML_ENV, sessionForModel, type MlEnv } from './model-runtime';
import type { ModelSession, TensorData } from './ort';

export interface RegistryModelOptions {
  ml?: MlEnv;
  /** Download/verification progress of the weights. */
  onLoadProgress?: (p: ModelFetchProgress) => void;
}

/** Where and how the model was opened, for the UI and the benchmark. */
export interface RegistryModelRuntime {
  ep: 'webgpu' | 'wasm';
  /** Why the model runs on WASM (no adapter, self-check mismatch…); null on WebGPU or when no check ran. */
  fallbackReason: string | null;
  selfCheckDiff: number | null;
  fetchEvents: string[];
  loadMs: number;
}

/** `appUrl`: the copy that ships with the app, used when the entry's file names no URL. */
export async function openRegistryModel(
  meta: ModelMeta,
  appUrl: string,
  checkFeeds: () => Record<string, TensorData>,
  opts: RegistryModelOptions = {},
): Promise<{ session: ModelSession; runtime: RegistryModelRuntime }> {
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

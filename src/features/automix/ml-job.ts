// Main-thread side of model inference: every auto-mix model, neural or not, runs in the ml worker.
import { proxy } from 'comlink';
import type { JobSystem } from '../../bridge/jobs';
import { DEFAULT_ML_SETTINGS, type AutomixInput, type AutomixMlSettings, type AutomixOutput, type AutomixRuntimeInfo } from '../../shared/automix';
import type { JobProgress } from '../../shared/jobs';
import { mlWorkers } from './workers';

const ML_SETTINGS_KEY = 'aimixer.ml';

/**
 * The ML runtime's settings: the defaults, overridden by a JSON object in localStorage under
 * "aimixer.ml" (e.g. {"provider":"wasm"} to keep every model off WebGPU).
 */
export function mlSettings(): AutomixMlSettings {
  const defaults: AutomixMlSettings = { ...DEFAULT_ML_SETTINGS };
  try {
    const raw = globalThis.localStorage?.getItem(ML_SETTINGS_KEY);
    if (!raw) return defaults;
    const o = JSON.parse(raw) as Partial<AutomixMlSettings>;
    return {
      selfCheckTolerance: typeof o.selfCheckTolerance === 'number' ? o.selfCheckTolerance : defaults.selfCheckTolerance,
      provider: o.provider === 'wasm' ? 'wasm' : 'auto',
    };
  } catch {
    return defaults;
  }
}

const modelRunListeners = new Set<(run: { modelId: string; runtime: AutomixRuntimeInfo }) => void>();
/** Hears every neural model run (auto-mix and tournaments), for the usage metrics kept on this device. */
export function onModelRun(listener: (run: { modelId: string; runtime: AutomixRuntimeInfo }) => void): () => void {
  modelRunListeners.add(listener);
  return () => modelRunListeners.delete(listener);
}

export function runAutomixModel(
  jobs: JobSystem,
  modelId: string,
  label: string,
  input: AutomixInput,
  opts: { signal?: AbortSignal; onProgress?: (p: JobProgress) => void } = {},
): Promise<{ output: AutomixOutput; runtime: AutomixRuntimeInfo | null }> {
  const ml = mlSettings();
  return jobs.run(mlWorkers, {
    label: `Run ${label}`,
    signal: opts.signal,
    task: (api, onProgress) =>
      api.runAutomix(
        { modelId, input, ml },
        proxy((p: JobProgress) => {
          onProgress(p);
          opts.onProgress?.(p);
        }),
      ),
  }).then((r) => {
    if (r.runtime) for (const l of modelRunListeners) l({ modelId, runtime: r.runtime });
    return r;
  });
}

// Model inference off the main thread: the registry's runners, with ORT's wasm from our origin.
import * as Comlink from 'comlink';
import { runnerFor } from '../../models/registry';
import { configureOrtForBrowser } from '../../src/ml/browser';
import type { AutomixRuntimeInfo } from '../../src/shared/automix';
import type { MlWorkerApi } from '../../src/shared/workers';

const api: MlWorkerApi = {
  async runAutomix(req, onProgress) {
    configureOrtForBrowser();
    onProgress({ fraction: null, stage: 'loading model' });
    const runner = await runnerFor(req.modelId);
    let runtime: AutomixRuntimeInfo | null = null;
    const output = await runner.run(req.input, {
      ml: req.ml,
      onLoadProgress: (p) => void onProgress({ fraction: p.total ? p.loaded / p.total : null, stage: p.stage === 'download' ? 'downloading model' : 'checking model' }),
      onRuntime: (info) => (runtime = info),
    });
    onProgress({ fraction: 1, stage: 'inference' });
    return { output, runtime };
  },
};

Comlink.expose(api);

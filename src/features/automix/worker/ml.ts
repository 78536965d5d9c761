// Model inference off the main thread: the registry's runners, with ORT's wasm from our origin.
import { runnerFor } from '../../../../models/registry';
import { configureOrtForBrowser } from '../../../ml/browser';
import type { AutomixRuntimeInfo } from '../../../shared/automix';
import type { MlWorkerApi } from '../contract';

export const mlWorker: MlWorkerApi = {
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


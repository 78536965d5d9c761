// The ml worker's contract: every auto-mix model, neural or not, runs there.
import type { ProgressCallback } from '../../shared/jobs';
import type { AutomixInput, AutomixMlSettings, AutomixOutput, AutomixRuntimeInfo } from '../../shared/automix';

export interface MlWorkerApi {
  /**
   * Runs a registry model on the tracks' features. Neural models load their weights (cached,
   * hash-checked) and run on the provider their self-check chose; `runtime` says which.
   */
  runAutomix(
    req: { modelId: string; input: AutomixInput; ml: AutomixMlSettings },
    onProgress: ProgressCallback,
  ): Promise<{ output: AutomixOutput; runtime: AutomixRuntimeInfo | null }>;
}

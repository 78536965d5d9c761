// The per-device self-check: WebGPU results drift from WASM on some devices (state outputs of
// recurrent models most of all), so before a model runs on WebGPU its outputs on a fixed input are
// compared with the WASM ones, and a model that disagrees runs on WASM.
import { errorMessage } from '../shared/errors';
import type { ModelSession, TensorData } from './ort';

export interface SelfCheckResult {
  /** Where the model will run. */
  ep: 'webgpu' | 'wasm';
  /** Largest absolute difference between the two providers' outputs; null when WebGPU was not tried. */
  maxAbsDiff: number | null;
  tolerance: number;
  /** Why the model runs on WASM, for the UI; null when it runs on WebGPU. */
  reason: string | null;
}

/** Largest |a − b| over every output the two runs share; Infinity on a shape or NaN mismatch. */
export function maxOutputDifference(a: Record<string, TensorData>, b: Record<string, TensorData>): number {
  let worst = 0;
  for (const [name, ta] of Object.entries(a)) {
    const tb = b[name];
    if (!tb || tb.type !== ta.type || tb.data.length !== ta.data.length || tb.dims.join() !== ta.dims.join()) return Infinity;
    for (let i = 0; i < ta.data.length; i++) {
      const x = Number(ta.data[i]);
      const y = Number(tb.data[i]);
      if (Number.isNaN(x) !== Number.isNaN(y)) return Infinity;
      const d = Math.abs(x - y);
      if (d > worst) worst = d;
    }
  }
  return worst;
}

/**
 * Runs `feeds` through the model on both providers. `gpu` is null when no WebGPU adapter exists
 * or the session could not be created there (its error becomes the reason).
 */
export async function selfCheck(
  wasm: ModelSession,
  gpu: ModelSession | Error | null,
  feeds: Record<string, TensorData>,
  tolerance: number,
): Promise<SelfCheckResult> {
  if (gpu === null) return { ep: 'wasm', maxAbsDiff: null, tolerance, reason: 'This device has no WebGPU adapter.' };
  if (gpu instanceof Error) return { ep: 'wasm', maxAbsDiff: null, tolerance, reason: `WebGPU could not load the model (${gpu.message}).` };
  const reference = await wasm.run(feeds);
  let diff: number;
  try {
    diff = maxOutputDifference(reference, await gpu.run(feeds));
  } catch (e) {
    return { ep: 'wasm', maxAbsDiff: null, tolerance, reason: `WebGPU failed to run the model (${errorMessage(e)}).` };
  }
  if (!(diff <= tolerance)) {
    return {
      ep: 'wasm',
      maxAbsDiff: diff,
      tolerance,
      reason: `On this device WebGPU's results differ from WASM's by ${Number.isFinite(diff) ? diff.toPrecision(3) : 'an incomparable amount'} (tolerance ${tolerance}), so the model runs on WASM.`,
    };
  }
  return { ep: 'webgpu', maxAbsDiff: diff, tolerance, reason: null };
}

// An Open-Unmix graph's session: weights from the configured URL through the hash-checked IndexedDB cache, on
// WebGPU where this device's self-check passes, else WASM.
import type { SeparatorSpec } from '../../../shared/separation';
import { fetchModelBytes, registrySource, type ModelFetchEvent, type ModelFetchProgress } from '../../../ml/model-fetch';
import { sessionForModel } from '../../../ml/model-runtime';
import { openSession, type ModelSession } from '../../../ml/ort';
import { umxCheckFeeds } from '../../../../models/umx-vocals/runner';

export async function openUmxSession(
  spec: Extract<SeparatorSpec, { kind: 'umx' }>,
  onProgress: (p: ModelFetchProgress) => void,
): Promise<{ session: ModelSession; runtime: { ep: 'wasm' | 'webgpu'; fallbackReason: string | null; fetchEvents: string[] } }> {
  const { meta } = spec;
  const source = registrySource(meta, '');
  const events: ModelFetchEvent['kind'][] = [];
  const bytes = await fetchModelBytes(source, { onProgress, onEvent: (e) => events.push(e.kind) });
  // Exports name their input differently, and the self-check's feeds need the name: open the WASM session first,
  // under the key sessionForModel uses (id@hash prefix), so it finds this one instead of loading the weights again.
  const wasm = await openSession(`${meta.id}@${source.sha256.slice(0, 16)}`, bytes, { ep: 'wasm' });
  const inputName = wasm.inputNames[0];
  const { session, report } = await sessionForModel(meta, source.url, () => umxCheckFeeds(inputName), { selfCheckTolerance: 1e-3, provider: spec.provider }, { onProgress });
  return { session, runtime: { ep: report.ep, fallbackReason: report.check?.reason ?? null, fetchEvents: [...new Set([...events, ...report.fetchEvents])] } };
}

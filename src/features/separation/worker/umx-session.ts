// An Open-Unmix graph's session: weights from the configured URL through the hash-checked IndexedDB cache, on
// WebGPU where this device's self-check passes, else WASM.
import type { ModelMeta } from '../../../shared/automix';
import type { SeparatorSpec } from '../../../shared/separation';
import { fetchModelBytes, type ModelFetchEvent, type ModelFetchProgress } from '../../../ml/model-fetch';
import { sessionForModel } from '../../../ml/model-runtime';
import { openSession, type ModelSession } from '../../../ml/ort';
import { umxCheckFeeds } from '../../../../models/umx-vocals/runner';

export async function openUmxSession(
  spec: Extract<SeparatorSpec, { kind: 'umx' }>,
  onProgress: (p: ModelFetchProgress) => void,
): Promise<{ session: ModelSession; runtime: { ep: 'wasm' | 'webgpu'; fallbackReason: string | null; fetchEvents: string[] } }> {
  const source = { id: spec.modelId, version: spec.version, url: spec.url, sha256: spec.sha256, sizeBytes: spec.sizeBytes };
  const events: ModelFetchEvent['kind'][] = [];
  const bytes = await fetchModelBytes(source, { onProgress, onEvent: (e) => events.push(e.kind) });
  // Exports name their input differently, and the self-check's feeds need the name: open the WASM session first,
  // under the key sessionForModel uses (id@hash prefix), so it finds this one instead of loading the weights again.
  const wasm = await openSession(`${spec.modelId}@${spec.sha256.slice(0, 16)}`, bytes, { ep: 'wasm' });
  const inputName = wasm.inputNames[0];
  // sessionForModel reads the fields a registry file entry holds: id, version, URL, hash and size.
  const meta = source as unknown as ModelMeta;
  const { session, report } = await sessionForModel(meta, spec.url, () => umxCheckFeeds(inputName), { selfCheckTolerance: 1e-3, provider: spec.provider }, { onProgress });
  return { session, runtime: { ep: report.ep, fallbackReason: report.check?.reason ?? null, fetchEvents: [...new Set([...events, ...report.fetchEvents])] } };
}

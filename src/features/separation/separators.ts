// The separators the desk offers: the registry's separation entries (models/<folder>/meta.json), each of which must
// say which stems it gives and what was tested with its real weights.
import { modelsFor } from '../../../models/registry';
import type { SeparationModelMeta } from '../../shared/separation';

export const SEPARATION_MODELS: readonly SeparationModelMeta[] = modelsFor('separation').map((m) => {
  if (!m.stems || !m.tested) throw new Error(`models/${m.folder}/meta.json: a separation model must list its "stems" and say what was "tested".`);
  return { ...m, stems: m.stems, tested: m.tested };
});

export function separationModel(id: string): SeparationModelMeta {
  const meta = SEPARATION_MODELS.find((m) => m.id === id);
  if (!meta) throw new Error(`Unknown separation model "${id}"; the registry has ${SEPARATION_MODELS.map((m) => m.id).join(', ')}.`);
  return meta;
}

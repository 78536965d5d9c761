// The separators the desk offers, read from their registry entries (models/<folder>/meta.json). Kept in this one
// place so the switch to the unified registry (modelsFor('separation')) is one edit.
import classicalMeta from '../../../models/classical-separator/meta.json';
import umxVocalsMeta from '../../../models/umx-vocals/meta.json';
import type { SeparationModelMeta } from '../../shared/separation';

export const SEPARATION_MODELS: readonly SeparationModelMeta[] = [classicalMeta as SeparationModelMeta, umxVocalsMeta as SeparationModelMeta];

export function separationModel(id: string): SeparationModelMeta {
  const meta = SEPARATION_MODELS.find((m) => m.id === id);
  if (!meta) throw new Error(`Unknown separation model "${id}"; the registry has ${SEPARATION_MODELS.map((m) => m.id).join(', ')}.`);
  return meta;
}

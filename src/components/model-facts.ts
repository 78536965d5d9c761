// What "About this model" and "About & licences" say about registry entries: one row per fact, one value
// when every variant agrees, else one per variant, so a model's dtype variants share one description.
import { formatModelSize, TASK_LABELS, type ModelMeta } from '../shared/model-meta';

export interface ModelFact {
  term: string;
  /** `who` names the variant when variants differ; null when the value is shared. */
  values: { who: string | null; text: string }[];
}

function weights(m: ModelMeta): string {
  if (m.files.length === 0) return 'none';
  const bytes = m.files.reduce((s, f) => s + f.sizeBytes, 0);
  const where = m.files.some((f) => f.url) ? `downloaded on first use from ${new URL(m.files.find((f) => f.url)!.url!).host}` : 'ships with the app';
  const files = m.files.length === 1 ? `SHA-256 ${m.files[0].sha256.slice(0, 12)}…` : `${m.files.length} files`;
  return `${m.dtype}, ${formatModelSize(bytes)}, ${files}, ${where}`;
}

export function commercialUseText(allowed: boolean | undefined): string {
  return allowed === true ? 'Allowed, on the licence’s terms' : allowed === false ? 'Not allowed' : 'Not stated';
}

const FACTS: [term: string, read: (m: ModelMeta, variants: number) => string | undefined][] = [
  // With variants each line is already headed by the variant's label.
  ['Model', (m, variants) => (variants > 1 ? `${m.id} v${m.version}` : `${m.label} (${m.id} v${m.version})`)],
  ['Task', (m) => TASK_LABELS[m.task]],
  ['Architecture', (m) => m.architecture],
  ['Source', (m) => m.source],
  ['Weights', weights],
  ['Training data', (m) => m.trainingData],
  ['Licence', (m) => m.licence],
  ['Commercial use', (m) => commercialUseText(m.commercialUse)],
  ['Created', (m) => m.created],
  ['Evaluation', (m) => (m.metrics ? Object.entries(m.metrics).map(([k, v]) => `${k} ${v}`).join(', ') : undefined)],
  ['Stems', (m) => m.stems?.join(', ')],
  ['Tested', (m) => m.tested],
  ['Note', (m) => m.note],
];

/** Facts of one model or of the dtype variants of one model; facts no variant has are left out. */
export function modelFacts(models: readonly ModelMeta[]): ModelFact[] {
  const rows: ModelFact[] = [];
  for (const [term, read] of FACTS) {
    const values = models.map((m) => ({ who: m.label, text: read(m, models.length) })).filter((v): v is { who: string; text: string } => v.text !== undefined);
    if (!values.length) continue;
    const shared = values.length === models.length && values.every((v) => v.text === values[0].text);
    rows.push({ term, values: shared ? [{ who: null, text: values[0].text }] : values });
  }
  return rows;
}

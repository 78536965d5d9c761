// One entry of the model registry: what models/<folder>/meta.json holds (one object, or an array of dtype
// variants), checked by a schema so a malformed folder fails with the file and the field named.
import * as v from 'valibot';

export const MODEL_TASKS = ['automix', 'vad', 'text-to-music', 'separation', 'transcription'] as const;
export type ModelTask = (typeof MODEL_TASKS)[number];

export const TASK_LABELS: Record<ModelTask, string> = {
  automix: 'Auto-mix',
  vad: 'Voice activity',
  'text-to-music': 'Text to music',
  separation: 'Stem separation',
  transcription: 'Transcription',
};

/** 'none' for a model without weights; else the weights' type. */
export const MODEL_DTYPES = ['none', 'float32', 'float16', 'int8', 'q8', 'q4'] as const;
export type ModelDtype = (typeof MODEL_DTYPES)[number];

export interface ModelFile {
  /** File name; without `url` the file ships in models/<folder>/ under this name. */
  name: string;
  /** Lowercase hex SHA-256 of the file. */
  sha256: string;
  sizeBytes: number;
  /** Where a large file is fetched from at run time; absent when it ships with the app. */
  url?: string;
}

export interface ModelMeta {
  id: string;
  label: string;
  version: string;
  task: ModelTask;
  architecture: string;
  io: { input: string; output: string };
  dtype: ModelDtype;
  /** Empty exactly when dtype is 'none'. */
  files: ModelFile[];
  /** The weights' and training data's terms, e.g. "CC-BY-NC-4.0: …". */
  licence: string;
  /** Whether the licence allows commercial use; absent when it does not say. */
  commercialUse?: boolean;
  trainingData: string;
  /** Filled by the model's evaluation; null until it has been evaluated. */
  metrics: Record<string, number> | null;
  /** ISO date. */
  created: string;
  note?: string;
  /** Where the weights come from (upstream project, conversion). */
  source?: string;
  /** The file a shipped file was derived from by a script in this repository (path from the repository root). */
  derivedFrom?: { path: string; sha256: string; sizeBytes: number };
  /** What was and was not tested with the real weights on this project's machines; said in the panel and in About. */
  tested?: string;
  /** The stems a separation model gives, in order. */
  stems?: string[];
}

const sha256 = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'));
const byteCount = v.pipe(v.number(), v.integer(), v.minValue(1));
const text = v.pipe(v.string(), v.trim(), v.nonEmpty('must not be empty'));

const FileSchema = v.strictObject({
  name: v.pipe(v.string(), v.regex(/^[\w.-]+$/, 'must be a plain file name')),
  sha256,
  sizeBytes: byteCount,
  url: v.optional(v.pipe(v.string(), v.url())),
});

const MetaSchema = v.pipe(
  v.strictObject({
    id: v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9.-]*$/, 'must be lowercase letters, digits, dots and dashes')),
    label: text,
    version: text,
    task: v.picklist(MODEL_TASKS),
    architecture: text,
    io: v.strictObject({ input: text, output: text }),
    dtype: v.picklist(MODEL_DTYPES),
    files: v.array(FileSchema),
    licence: text,
    commercialUse: v.optional(v.boolean()),
    trainingData: text,
    metrics: v.nullable(v.record(v.string(), v.number())),
    created: v.pipe(v.string(), v.isoDate()),
    note: v.optional(text),
    source: v.optional(text),
    derivedFrom: v.optional(v.strictObject({ path: text, sha256, sizeBytes: byteCount })),
    tested: v.optional(text),
    stems: v.optional(v.pipe(v.array(text), v.nonEmpty('must list at least one stem'))),
  }),
  v.check((m) => (m.dtype === 'none') === (m.files.length === 0), "dtype 'none' means no files, and files need a dtype"),
);

// Keeps the interface and the schema the same shape.
type Parsed = v.InferOutput<typeof MetaSchema>;
const sameShape: [Parsed extends ModelMeta ? true : false, ModelMeta extends Parsed ? true : false] = [true, true];
void sameShape;

/** The entries of one meta.json (`where` names it in errors): one object or an array of variants. */
export function parseModelEntries(where: string, json: unknown): ModelMeta[] {
  const list = Array.isArray(json) ? json : [json];
  if (list.length === 0) throw new Error(`${where}: an empty array lists no model.`);
  return list.map((item, i) => {
    const r = v.safeParse(MetaSchema, item);
    if (r.success) return r.output;
    const at = Array.isArray(json) ? `[${i}]` : '';
    const problems = r.issues.map((issue) => `${v.getDotPath(issue) ?? '(entry)'} ${issue.message}`);
    throw new Error(`${where}${at}: not a valid registry entry: ${problems.join('; ')}.`);
  });
}

/** The one weights file of a single-file model (ONNX); throws naming the model otherwise. */
export function singleModelFile(meta: ModelMeta): ModelFile {
  if (meta.files.length !== 1) throw new Error(`Model "${meta.id}" has ${meta.files.length} files; it cannot be opened as one ONNX file.`);
  return meta.files[0];
}

/** "10.8 KB", "0.95 MB". */
export function formatModelSize(bytes: number): string {
  return bytes < 1e5 ? `${(bytes / 1e3).toFixed(1)} KB` : `${(bytes / 1e6).toFixed(2)} MB`;
}

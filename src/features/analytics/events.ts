// What the app records about its own use: kinds, durations, rounded sizes, error class names, model ids and
// execution providers. Never audio, file or track names, prompts or messages: every string is checked against a
// narrow pattern here, so a label or a message can never slip into the store.
import * as v from 'valibot';

/** Kept: the newest 10,000 events, none older than 90 days (whichever drops more). */
export const METRICS_RETENTION = { maxEvents: 10_000, maxAgeMs: 90 * 24 * 3600 * 1000 } as const;

// The handle names of the studio's decode workers and mastering's export workers (src/features/*/workers.ts).
export const IMPORT_KIND = 'decode';
export const EXPORT_KIND = 'export';

export type JobEndStatus = 'done' | 'failed' | 'cancelled';

/** One finished job of the job system. */
export type JobEvent = {
  type: 'job';
  /** When it ended (ms since epoch). */
  ts: number;
  /** The worker handle's name: 'decode' for imports, 'export' for encodes, 'render', 'ml'… */
  kind: string;
  status: JobEndStatus;
  /** Queued to ended: what the user waited. */
  durationMs: number;
  /** Started to ended; absent for a job cancelled in the queue. */
  runMs?: number;
  /** Time in each named stage of its progress, in the order they ran. */
  stages: { stage: string; ms: number }[];
  /** The error class of a failure, never its message (a message may name a file). */
  errorName?: string;
  /** A worker started ahead of the jobs that need it (not work a user asked for). */
  ahead?: true;
};

/** One neural model run: where it ran and how long it took. */
export type ModelRunEvent = {
  type: 'model';
  ts: number;
  modelId: string;
  ep: 'webgpu' | 'wasm';
  inferenceMs: number;
  loadMs: number;
  /** It ran on WASM although WebGPU was tried or wanted. */
  fellBack: boolean;
  /** What the weights' loader did ('cache-hit', 'downloaded'…). */
  weights: string[];
};

export const STORAGE_KINDS = ['session', 'export', 'model', 'votes', 'feature'] as const;
export type StorageKind = (typeof STORAGE_KINDS)[number];

/** What this origin stores, in sizes rounded to two significant figures. */
export type StorageEvent = {
  type: 'storage';
  ts: number;
  /** The browser's estimate for the whole origin, when it gives one. */
  usageBytes?: number;
  quotaBytes?: number;
  /** Count and bytes of each kind of item the Storage dialog lists. */
  items: Record<StorageKind, { count: number; bytes: number }>;
};

export type MetricEvent = JobEvent | ModelRunEvent | StorageEvent;

/** Sizes are kept to two significant figures: enough for a trend, too coarse to recognise a file by. */
export function roundBytes(bytes: number): number {
  if (!Number.isFinite(bytes) || bytes <= 0) return 0;
  return Number(bytes.toPrecision(2));
}

export function roundMs(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms) : 0;
}

const KIND = /^[a-z][a-z0-9-]{0,31}$/;
const ERROR_NAME = /^[A-Za-z_$][\w$]{0,63}$/;
const MODEL_ID = /^[A-Za-z0-9][\w.-]{0,63}$/;
const WEIGHT_EVENTS = new Set(['cache-hit', 'cache-corrupt', 'downloaded', 'cache-write-failed']);
// Letters, digits and a little punctuation; no '.', '/', '\\' or '_', which file names carry.
const STAGE = /^[\p{L}\p{N}#() ,'-]{1,64}$/u;

export function safeKind(kind: string): string {
  return KIND.test(kind) ? kind : 'other';
}

export function safeErrorName(name: string | undefined): string {
  return name && ERROR_NAME.test(name) ? name : 'Error';
}

export function safeModelId(id: string): string {
  return MODEL_ID.test(id) ? id : 'other';
}

export function safeWeightEvents(events: readonly string[]): string[] {
  return events.filter((e) => WEIGHT_EVENTS.has(e));
}

/** A progress stage as a category: counts become '#' ("decoding 3 clips" → "decoding # clips"), anything else odd becomes 'other'. */
export function safeStage(stage: string): string {
  const s = stage.replace(/\b\d+(?:[.,]\d+)?\b/g, '#').replace(/\s+/g, ' ').trim();
  return STAGE.test(s) ? s : 'other';
}

const ms = v.pipe(v.number(), v.finite(), v.minValue(0));
const str = (re: RegExp) => v.pipe(v.string(), v.regex(re));
const itemCount = v.object({ count: ms, bytes: ms });

const JOB = v.object({
  type: v.literal('job'),
  ts: ms,
  kind: str(KIND),
  status: v.picklist(['done', 'failed', 'cancelled']),
  durationMs: ms,
  runMs: v.optional(ms),
  stages: v.array(v.object({ stage: str(STAGE), ms })),
  errorName: v.optional(str(ERROR_NAME)),
  ahead: v.optional(v.literal(true)),
});
const MODEL = v.object({
  type: v.literal('model'),
  ts: ms,
  modelId: str(MODEL_ID),
  ep: v.picklist(['webgpu', 'wasm']),
  inferenceMs: ms,
  loadMs: ms,
  fellBack: v.boolean(),
  weights: v.array(v.picklist([...WEIGHT_EVENTS])),
});
const STORAGE = v.object({
  type: v.literal('storage'),
  ts: ms,
  usageBytes: v.optional(ms),
  quotaBytes: v.optional(ms),
  items: v.object(Object.fromEntries(STORAGE_KINDS.map((k) => [k, itemCount])) as Record<StorageKind, typeof itemCount>),
});
const EVENT = v.variant('type', [JOB, MODEL, STORAGE]);

/** A stored record as an event, or null when it is not one (written by another version, damaged). */
export function parseMetricEvent(record: unknown): MetricEvent | null {
  const r = v.safeParse(EVENT, record);
  return r.success ? (r.output as MetricEvent) : null;
}

// The contract every auto-mix model implements, neural or not: features in, console settings out.
//
// Track order must not matter: a model is permutation-equivariant, so permuting the input tracks
// permutes the output tracks the same way and changes nothing else. Models see one song at a time
// and may pool over its tracks only with order-free reductions (mean, median, max, sum).
import type { TrackFeatures } from './features';
import type { MixSettings, TrackSettings } from './mix';

export const AUTOMIX_MIN_TRACKS = 1;
export const AUTOMIX_MAX_TRACKS = 32;
/** Index-addressed like Eq: low shelf, low-mid peak, high-mid peak, high shelf. */
export const AUTOMIX_EQ_BANDS = 4;

/** Sane ranges of what a model may propose, and the neutral value a NaN falls back to. */
export const AUTOMIX_RANGES = {
  gainDb: { min: -24, max: 12, neutral: 0 },
  pan: { min: -1, max: 1, neutral: 0 },
  eqGainDb: { min: -12, max: 12, neutral: 0 },
  compThresholdDb: { min: -40, max: 0, neutral: 0 },
  compRatio: { min: 1, max: 8, neutral: 1 },
  masterGainDb: { min: -24, max: 12, neutral: 0 },
} as const;

export interface AutomixTrackInput {
  features: TrackFeatures;
  /** Log-mel patches (frames × SPECTROGRAM.melBands, row-major) for models that read spectrograms. */
  melPatches?: Float32Array[];
}

export interface AutomixInput {
  /** 1…32 tracks, in any order. */
  tracks: AutomixTrackInput[];
}

export interface AutomixCompressorOutput {
  thresholdDb: number;
  /** 1 means no compression: the compressor is switched off when applied. */
  ratio: number;
}

export type AutomixEqGains = [number, number, number, number];

export interface AutomixTrackOutput {
  /** Fader in dB; null: the model has no opinion (e.g. a silent track) and the fader stays. */
  gainDb: number | null;
  /** −1 (left) … +1 (right). */
  pan: number;
  /** Gains of the four EQ bands, dB; the bands' types and frequencies stay as the user set them. */
  eqGainsDb: AutomixEqGains;
  /** null: the track's compressor stays as it is. */
  comp: AutomixCompressorOutput | null;
}

export interface AutomixOutput {
  /** One per input track, in the input's order. */
  tracks: AutomixTrackOutput[];
  master: { gainDb: number };
}

/** Settings of the ML runtime (src/ml/model-runtime.ts MlEnv) that a neural runner obeys. */
export interface AutomixMlSettings {
  selfCheckTolerance: number;
  provider: 'auto' | 'wasm';
}

/** The ML runtime's defaults, here so the page can read them without loading the runtime. */
export const DEFAULT_ML_SETTINGS: Readonly<AutomixMlSettings> = { selfCheckTolerance: 1e-3, provider: 'auto' };

/** Where and how a neural model ran, for the UI and the benchmark. */
export interface AutomixRuntimeInfo {
  ep: 'webgpu' | 'wasm';
  /** Why the model runs on WASM (no adapter, self-check mismatch…); null on WebGPU. */
  fallbackReason: string | null;
  /** Largest WebGPU-vs-WASM output difference of the self-check; null when it did not run both. */
  selfCheckDiff: number | null;
  /** What the weights' loader did: 'cache-hit', 'cache-corrupt', 'downloaded', 'cache-write-failed'. */
  fetchEvents: string[];
  loadMs: number;
  inferenceMs: number;
}

export interface AutomixRunOptions {
  signal?: { readonly aborted: boolean };
  ml?: AutomixMlSettings;
  /** Download/verification progress of the weights. */
  onLoadProgress?: (p: { loaded: number; total: number | null; stage: string }) => void;
  onRuntime?: (info: AutomixRuntimeInfo) => void;
}

/** What every model's runner exposes; inference may run in a worker, so it is async. */
export interface AutomixRunner {
  readonly id: string;
  run(input: AutomixInput, opts?: AutomixRunOptions): Promise<AutomixOutput>;
}

/** Throws when a session has too few or too many tracks for the contract. */
export function assertAutomixTrackCount(n: number): void {
  if (n < AUTOMIX_MIN_TRACKS || n > AUTOMIX_MAX_TRACKS) {
    throw new RangeError(`Auto-mix needs ${AUTOMIX_MIN_TRACKS} to ${AUTOMIX_MAX_TRACKS} tracks; this session has ${n}.`);
  }
}

function clampTo(v: number, range: { min: number; max: number; neutral: number }): number {
  if (Number.isNaN(v)) return range.neutral;
  return Math.min(range.max, Math.max(range.min, v));
}

export function neutralTrackOutput(): AutomixTrackOutput {
  return { gainDb: 0, pan: 0, eqGainsDb: [0, 0, 0, 0], comp: null };
}

/** A copy with every value inside AUTOMIX_RANGES; NaN becomes the neutral value, ±Infinity the bound. */
export function clampAutomixOutput(out: AutomixOutput): AutomixOutput {
  const R = AUTOMIX_RANGES;
  return {
    tracks: out.tracks.map((t) => ({
      gainDb: t.gainDb === null ? null : clampTo(t.gainDb, R.gainDb),
      pan: clampTo(t.pan, R.pan),
      eqGainsDb: [0, 1, 2, 3].map((k) => clampTo(t.eqGainsDb[k] ?? R.eqGainDb.neutral, R.eqGainDb)) as AutomixEqGains,
      comp: t.comp === null ? null : { thresholdDb: clampTo(t.comp.thresholdDb, R.compThresholdDb), ratio: clampTo(t.comp.ratio, R.compRatio) },
    })),
    master: { gainDb: clampTo(out.master.gainDb, R.masterGainDb) },
  };
}

function copyTrack(t: TrackSettings): TrackSettings {
  return { ...t, eq: t.eq.map((b) => ({ ...b })) as TrackSettings['eq'], comp: { ...t.comp } };
}

function copyMix(mix: MixSettings): MixSettings {
  const tracks: Record<string, TrackSettings> = {};
  for (const [id, t] of Object.entries(mix.tracks)) tracks[id] = copyTrack(t);
  const m = mix.master;
  return { tracks, master: { ...m, eq: m.eq.map((b) => ({ ...b })) as MixSettings['master']['eq'], comp: { ...m.comp }, limiter: { ...m.limiter } } };
}

/**
 * A new MixSettings with the (clamped) proposal applied as ordinary console settings: fader, pan,
 * EQ band gains, compressor threshold and ratio, master gain. Mute, solo, EQ types, frequencies
 * and Q, and the compressor's timing stay as they were. trackIds[i] names out.tracks[i].
 */
export function applyAutomixOutput(mix: MixSettings, trackIds: readonly string[], out: AutomixOutput): MixSettings {
  if (trackIds.length !== out.tracks.length) {
    throw new RangeError(`The model proposed settings for ${out.tracks.length} tracks, but ${trackIds.length} were given.`);
  }
  const safe = clampAutomixOutput(out);
  const next = copyMix(mix);
  trackIds.forEach((id, i) => {
    const t = next.tracks[id];
    if (!t) throw new RangeError(`Track ${id} is not in the mix.`);
    const p = safe.tracks[i];
    if (p.gainDb !== null) t.gainDb = p.gainDb;
    t.pan = p.pan;
    p.eqGainsDb.forEach((g, k) => (t.eq[k].gainDb = g));
    if (p.comp) {
      t.comp.thresholdDb = p.comp.thresholdDb;
      t.comp.ratio = p.comp.ratio;
      t.comp.enabled = p.comp.ratio > 1;
    }
  });
  next.master.gainDb = safe.master.gainDb;
  return next;
}

/** One track's settings before and after an auto-mix, for the "what changed" view. */
export interface AutomixTrackChange {
  trackId: string;
  before: AutomixTrackSummary;
  after: AutomixTrackSummary;
}

export interface AutomixTrackSummary {
  gainDb: number;
  pan: number;
  eqGainsDb: AutomixEqGains;
  comp: { enabled: boolean; thresholdDb: number; ratio: number };
}

function summarise(t: TrackSettings): AutomixTrackSummary {
  return {
    gainDb: t.gainDb,
    pan: t.pan,
    eqGainsDb: t.eq.map((b) => b.gainDb) as AutomixEqGains,
    comp: { enabled: t.comp.enabled, thresholdDb: t.comp.thresholdDb, ratio: t.comp.ratio },
  };
}

export function automixChanges(before: MixSettings, after: MixSettings, trackIds: readonly string[]): AutomixTrackChange[] {
  return trackIds
    .filter((id) => before.tracks[id] && after.tracks[id])
    .map((id) => ({ trackId: id, before: summarise(before.tracks[id]), after: summarise(after.tracks[id]) }));
}

// The console model shared by the live engine, the offline renderer, storage and (later) the
// auto-mix models. Every value is in audio units a user would recognise.

export type EqBandType = 'lowshelf' | 'peaking' | 'highshelf';

export interface EqBand {
  type: EqBandType;
  /** Centre or corner frequency in Hz. */
  freq: number;
  /** Boost or cut in dB. */
  gainDb: number;
  /** Quality factor (peaking bandwidth; shelf slope uses Q as RBJ "Q"). */
  q: number;
}

/** Low shelf, two peaks, high shelf: the order is fixed so models can address bands by index. */
export type Eq = [EqBand, EqBand, EqBand, EqBand];

export interface CompressorSettings {
  enabled: boolean;
  thresholdDb: number;
  ratio: number;
  attackMs: number;
  releaseMs: number;
  kneeDb: number;
  makeupDb: number;
}

export interface LimiterSettings {
  enabled: boolean;
  ceilingDb: number;
  releaseMs: number;
}

export interface TrackSettings {
  gainDb: number;
  /** -1 (left) … +1 (right), constant-power law. */
  pan: number;
  mute: boolean;
  solo: boolean;
  eqEnabled: boolean;
  eq: Eq;
  comp: CompressorSettings;
}

export interface MasterSettings {
  gainDb: number;
  eqEnabled: boolean;
  eq: Eq;
  comp: CompressorSettings;
  limiter: LimiterSettings;
}

export interface MixSettings {
  /** Keyed by track id; order of tracks lives in the session. */
  tracks: Record<string, TrackSettings>;
  master: MasterSettings;
}

export const GAIN_DB_MIN = -60;
export const GAIN_DB_MAX = 12;
export const EQ_GAIN_DB_LIMIT = 18;

export function defaultEq(): Eq {
  return [
    { type: 'lowshelf', freq: 100, gainDb: 0, q: 0.707 },
    { type: 'peaking', freq: 500, gainDb: 0, q: 1 },
    { type: 'peaking', freq: 3000, gainDb: 0, q: 1 },
    { type: 'highshelf', freq: 8000, gainDb: 0, q: 0.707 },
  ];
}

export function defaultCompressor(): CompressorSettings {
  return { enabled: false, thresholdDb: -18, ratio: 3, attackMs: 10, releaseMs: 120, kneeDb: 6, makeupDb: 0 };
}

export function defaultTrackSettings(): TrackSettings {
  return { gainDb: 0, pan: 0, mute: false, solo: false, eqEnabled: true, eq: defaultEq(), comp: defaultCompressor() };
}

export function defaultMasterSettings(): MasterSettings {
  return {
    gainDb: 0,
    eqEnabled: true,
    eq: defaultEq(),
    comp: defaultCompressor(),
    limiter: { enabled: true, ceilingDb: -1, releaseMs: 80 },
  };
}

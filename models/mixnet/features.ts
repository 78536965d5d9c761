// The mixnet input row of one track, built from the app's TrackFeatures. The trainer
// (scripts/train.ts) and the runner share this function, so training and inference read the
// same numbers.
//
// Column 0 is the track's integrated loudness relative to the mean of the session's active tracks
// (LU): the graph subtracts it from the predicted relative loudness to get the fader gain, and the
// network reads it as evidence too (a stem far louder than the rest was probably meant to be
// louder). Every other column is independent of the track's level, and a level shared by all
// tracks changes nothing: the overall level is mastering's job.
import type { TrackFeatures } from '../../src/shared/features';

/** Tracks quieter than this (or with no integrated loudness) are silent: the model leaves them alone. */
export const MIXNET_SILENT_LUFS = -70;
/** Mel bands averaged into one input column: 64 bands → 16 columns. */
export const MIXNET_MEL_POOL = 4;
export const MIXNET_MEL_COLUMNS = 64 / MIXNET_MEL_POOL;
/**
 * Spectral columns stop 60 dB below the track's loudness: the analysis floors silent bands at
 * −120 dB absolute, and below this a floored band would tell the network the track's absolute
 * level, which a gain change does not move.
 */
export const RELATIVE_FLOOR_DB = -60;

export const MIXNET_FEATURE_NAMES: readonly string[] = [
  'relative_lufs',
  'short_term_p10_minus_integrated',
  'short_term_p50_minus_integrated',
  'short_term_p95_minus_integrated',
  'peak_minus_integrated',
  'crest_db',
  'log2_centroid_khz',
  'tilt_db_per_octave',
  ...Array.from({ length: 7 }, (_, b) => `band_energy_${b}_db`),
  'side_fraction',
  'correlation',
  'balance',
  'activity',
  ...Array.from({ length: MIXNET_MEL_COLUMNS }, (_, m) => `mel_${m}_minus_integrated`),
];
export const MIXNET_FEATURES = MIXNET_FEATURE_NAMES.length;

/** Output columns of the graph's "settings" tensor [N, 6]. */
export const MIXNET_OUTPUT_NAMES = ['gain_db', 'pan', 'eq_low_shelf_db', 'eq_low_mid_db', 'eq_high_mid_db', 'eq_high_shelf_db'] as const;
export const MIXNET_OUTPUTS = MIXNET_OUTPUT_NAMES.length;

export function isSilentTrack(f: TrackFeatures): boolean {
  return !Number.isFinite(f.integratedLufs) || f.integratedLufs <= MIXNET_SILENT_LUFS;
}

const clamp = (v: number, lo: number, hi: number): number => (Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : v > 0 ? hi : lo);

/** One row (MIXNET_FEATURES values) for an active track; `meanLufs` is the mean over the session's active tracks. */
export function mixnetFeatureRow(f: TrackFeatures, meanLufs: number, out: Float32Array = new Float32Array(MIXNET_FEATURES), offset = 0): Float32Array {
  const lufs = f.integratedLufs;
  let i = offset;
  out[i++] = clamp(lufs - meanLufs, -60, 60);
  out[i++] = clamp(f.shortTermP10 - lufs, -40, 20);
  out[i++] = clamp(f.shortTermP50 - lufs, -40, 20);
  out[i++] = clamp(f.shortTermP95 - lufs, -40, 20);
  out[i++] = clamp(f.peakDb - lufs, -20, 60);
  out[i++] = clamp(f.crestDb, 0, 60);
  out[i++] = clamp(Math.log2(Math.max(f.spectralCentroidHz, 20) / 1000), -6, 4);
  out[i++] = clamp(f.spectralTiltDbPerOctave, -20, 10);
  for (let b = 0; b < 7; b++) out[i++] = clamp(f.bandEnergiesDb[b] ?? RELATIVE_FLOOR_DB, RELATIVE_FLOOR_DB, 0);
  out[i++] = clamp(f.stereoWidth / (1 + f.stereoWidth), 0, 1);
  out[i++] = clamp(f.stereoCorrelation, -1, 1);
  out[i++] = clamp(f.stereoBalance ?? 0, -1, 1);
  out[i++] = clamp(f.activity, 0, 1);
  for (let m = 0; m < MIXNET_MEL_COLUMNS; m++) {
    let sum = 0;
    for (let k = 0; k < MIXNET_MEL_POOL; k++) sum += f.melMeanDb[m * MIXNET_MEL_POOL + k] ?? -120;
    out[i++] = clamp(sum / MIXNET_MEL_POOL - lufs, RELATIVE_FLOOR_DB, 20);
  }
  return out;
}

/** The [N, MIXNET_FEATURES] input of the active tracks, row-major, and which input tracks they are. */
export function mixnetInput(tracks: readonly TrackFeatures[]): { data: Float32Array; active: number[] } {
  const active = tracks.flatMap((f, i) => (isSilentTrack(f) ? [] : [i]));
  const meanLufs = active.reduce((s, i) => s + tracks[i].integratedLufs, 0) / Math.max(1, active.length);
  const data = new Float32Array(active.length * MIXNET_FEATURES);
  active.forEach((t, row) => mixnetFeatureRow(tracks[t], meanLufs, data, row * MIXNET_FEATURES));
  return { data, active };
}

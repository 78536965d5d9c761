// Mastering settings and presets, shared by the DSP, the workers, storage and the UI.
import { defaultEq, type CompressorSettings, type Eq } from './mix';

export type MasteringPresetId = 'streaming' | 'podcast' | 'broadcast' | 'custom';

export interface MasteringSettings {
  preset: MasteringPresetId;
  targetLufs: number;
  ceilingDbtp: number;
  eqEnabled: boolean;
  eq: Eq;
  comp: CompressorSettings;
  /** Stereo width: 0 mono, 1 unchanged, up to 2 (side doubled). */
  width: number;
  /** Above this much make-up gain we stop and say so rather than amplify noise. */
  maxGainDb: number;
}

export const MASTERING_PRESETS: Record<MasteringPresetId, { label: string; targetLufs: number; ceilingDbtp: number }> = {
  streaming: { label: 'Streaming (−14 LUFS)', targetLufs: -14, ceilingDbtp: -1 },
  podcast: { label: 'Podcast (−16 LUFS)', targetLufs: -16, ceilingDbtp: -1 },
  broadcast: { label: 'Broadcast (−23 LUFS, EBU R128)', targetLufs: -23, ceilingDbtp: -1 },
  custom: { label: 'Custom', targetLufs: -14, ceilingDbtp: -1 },
};

export function defaultMasteringSettings(preset: MasteringPresetId = 'streaming'): MasteringSettings {
  const p = MASTERING_PRESETS[preset];
  return {
    preset,
    targetLufs: p.targetLufs,
    ceilingDbtp: p.ceilingDbtp,
    eqEnabled: true,
    eq: defaultEq(),
    comp: { enabled: true, thresholdDb: -18, ratio: 1.5, attackMs: 30, releaseMs: 250, kneeDb: 8, makeupDb: 0 },
    width: 1,
    maxGainDb: 24,
  };
}


/** Loudness and peak figures of one signal (BS.1770-4 / EBU R128 / Tech 3342). */
export interface LoudnessReport {
  /** Gated programme loudness (BS.1770-4); -Infinity when nothing passes the gates. */
  integratedLufs: number;
  /** EBU Tech 3342 loudness range; 0 when fewer than two gated short-term values differ. */
  loudnessRangeLu: number;
  maxMomentaryLufs: number;
  maxShortTermLufs: number;
  /** Momentary (400 ms) loudness ending at each 100 ms boundary; index i ends at (i + 1) × 100 ms. */
  momentary: Float32Array;
  /** Short-term (3 s) loudness ending at each 100 ms boundary, indexed like momentary. */
  shortTerm: Float32Array;
  /** BS.1770-4 Annex 2 true peak over all channels, dBTP. */
  truePeakDb: number;
  samplePeakDb: number;
}

export interface MasteringReport {
  input: LoudnessReport;
  output: LoudnessReport;
  gainDb: number;
  /** True when the target needed more than maxGainDb. */
  gainCapped: boolean;
  /** Ceiling the limiter actually used, below the requested one when encoding needed headroom. */
  limiterCeilingDb: number;
  warnings: string[];
}

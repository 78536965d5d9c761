// The non-neural baseline: every active track at the same integrated loudness, the median of the
// tracks' loudness, so the overall level stays where it was and only relative levels move.
import { assertAutomixTrackCount, neutralTrackOutput, type AutomixInput, type AutomixOutput, type AutomixRunner } from '../../src/shared/automix';

/** Below the BS.1770 absolute gate a track has no integrated loudness worth matching. */
const SILENT_LUFS = -70;

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Pure and order-free: a track's gain depends on its own loudness and the median of all of them. */
export function equalLoudness(input: AutomixInput): AutomixOutput {
  assertAutomixTrackCount(input.tracks.length);
  const lufs = input.tracks.map((t) => t.features.integratedLufs);
  const active = lufs.filter((l) => Number.isFinite(l) && l > SILENT_LUFS).sort((a, b) => a - b);
  const target = active.length ? median(active) : 0;
  return {
    tracks: lufs.map((l) => ({ ...neutralTrackOutput(), gainDb: Number.isFinite(l) && l > SILENT_LUFS ? target - l : null })),
    master: { gainDb: 0 },
  };
}

export const equalLoudnessRunner: AutomixRunner = {
  id: 'equal-loudness',
  run: async (input) => equalLoudness(input),
};

/** The registry's way to get this folder's auto-mix runner (models/registry.ts runnerFor). */
export const automixRunner = async (): Promise<AutomixRunner> => equalLoudnessRunner;

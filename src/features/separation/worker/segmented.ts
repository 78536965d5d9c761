// A part of a song separated segment by segment and joined by crossfades: the loop the worker runs, and the eval
// and the benchmark run too, so what they measure is what the app does.
import { addSegment, overlapFor, planSegments, segmentWeights } from '../../../dsp/segments';
import { contextSamples, FOUR_STEMS, paramsForRate, separateClassical, type ClassicalParams } from '../../../dsp/separation';
import type { RealFft } from '../../../dsp/real-fft';

export interface SegmentedRun {
  /** Separates one segment's channels into stems (each with the segment's channels). */
  run: (channels: Float32Array[], onStage: (stage: string, fraction: number) => void) => Promise<Float32Array[][]>;
  /** Samples each side a result depends on (the crossfades keep this far from segment ends). */
  context: number;
  /** Segment starts fall on multiples of this (the STFT hop). */
  align: number;
}

/** Crossfade length between segments, seconds. */
export const FADE_SECONDS = 1;

export async function separateInSegments(
  channels: Float32Array[],
  sampleRate: number,
  stemCount: number,
  runner: SegmentedRun,
  segmentSeconds: number,
  onProgress: (fraction: number, segment: number, segments: number, stage: string) => void = () => undefined,
): Promise<{ stems: Float32Array[][]; segments: number }> {
  const length = channels[0].length;
  const fade = Math.round(FADE_SECONDS * sampleRate);
  const overlap = overlapFor(runner.context, fade);
  const segment = Math.max(Math.round(segmentSeconds * sampleRate), 2 * overlap + runner.align);
  const plan = planSegments(length, { segment, overlap, fade, align: runner.align });
  const out = Array.from({ length: stemCount }, () => channels.map(() => new Float32Array(length)));
  for (const [i, seg] of plan.entries()) {
    const slice = channels.map((c) => c.subarray(seg.start, seg.end));
    const stems = await runner.run(slice, (stage, f) => onProgress((i + f) / plan.length, i, plan.length, stage));
    const w = segmentWeights(seg);
    stems.forEach((chs, s) => chs.forEach((ch, c) => addSegment(out[s][c], ch, seg, w)));
  }
  return { stems: out, segments: plan.length };
}

/** The classical separator as a segmented run: stems in FOUR_STEMS order. */
export function classicalRun(sampleRate: number, fft: RealFft, p: ClassicalParams = paramsForRate(sampleRate)): SegmentedRun {
  return {
    context: contextSamples(p),
    align: p.hopSize,
    run: async (channels, onStage) => {
      const stems = separateClassical(channels, sampleRate, fft, p, { onStage });
      return FOUR_STEMS.map((s) => stems[s]);
    },
  };
}

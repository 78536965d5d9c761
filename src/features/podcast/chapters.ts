// Podcasting 2.0 JSON chapters (version 1.2.0) for a reel: one chapter per clip, at its time in the reel,
// titled with what it is and where it came from in the episode.
// Spec: https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/examples/chapters/jsonChapters.md
// Each chapter also carries `sourceStartTime` and `sourceEndTime` (seconds in the episode): extra keys the
// format's readers keep and ignore, so a tool can map every chapter back to the source.
import { clipReelStarts, formatTime, type ReelPlan } from './select';

export interface JsonChapter {
  startTime: number;
  endTime: number;
  title: string;
  toc?: boolean;
  sourceStartTime?: number;
  sourceEndTime?: number;
}

export interface JsonChapters {
  version: '1.2.0';
  title?: string;
  podcastName?: string;
  fileName?: string;
  description?: string;
  chapters: JsonChapter[];
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

export function reelChapters(plan: ReelPlan, opts: { title?: string; episodeName?: string; fileName?: string } = {}): JsonChapters {
  const starts = clipReelStarts(plan);
  const chapters: JsonChapter[] = [];
  if (plan.introS > 0) chapters.push({ startTime: 0, endTime: r3(starts[0] ?? plan.introS), title: 'Intro' });
  plan.clips.forEach((c, i) => {
    const start = starts[i];
    const end = i + 1 < plan.clips.length ? starts[i + 1] : plan.outroS > 0 ? start + (c.end - c.start) - plan.crossfadeS : plan.durationS;
    chapters.push({
      startTime: r3(start),
      endTime: r3(Math.min(plan.durationS, end)),
      title: `${c.label}: ${formatTime(c.start)}–${formatTime(c.end)}${opts.episodeName ? ` of ${opts.episodeName}` : ''}`,
      sourceStartTime: r3(c.start),
      sourceEndTime: r3(c.end),
    });
  });
  if (plan.outroS > 0) chapters.push({ startTime: r3(plan.durationS - plan.outroS), endTime: r3(plan.durationS), title: 'Outro' });
  return {
    version: '1.2.0',
    ...(opts.title ? { title: opts.title } : {}),
    ...(opts.fileName ? { fileName: opts.fileName } : {}),
    description: opts.episodeName ? `Highlights of ${opts.episodeName}; each chapter names its time in the episode.` : 'Highlights; each chapter names its time in the episode.',
    chapters,
  };
}

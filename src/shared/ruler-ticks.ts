// Time rulers under a waveform (the mix, an episode overview): labels and notches at round intervals, few enough to
// read and to lay out quickly.
// Why few: wavesurfer's timeline plugin measures each notch as it adds it (a forced layout per notch), so its
// cost grows with the square of their count; 600 notches on a 1-hour episode took 3.1 s of the page's main
// thread (twice: again on the first resize), while the reel's clips waited on that thread to be decoded.

/** Label intervals to choose from (seconds). */
const LABEL_STEPS = [1, 2, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200] as const;
/** At most this many labels across a ruler. */
export const MAX_LABELS = 12;
/** Notches between two labels (one interval of notches per label step). */
export const NOTCHES_PER_LABEL = 5;

/** The label interval and notch interval (seconds) for a ruler `durationS` long. */
export function rulerTicks(durationS: number): { labelS: number; notchS: number } {
  const labelS = LABEL_STEPS.find((s) => durationS / s <= MAX_LABELS) ?? LABEL_STEPS[LABEL_STEPS.length - 1] * Math.ceil(durationS / MAX_LABELS / LABEL_STEPS[LABEL_STEPS.length - 1]);
  return { labelS, notchS: labelS / NOTCHES_PER_LABEL };
}

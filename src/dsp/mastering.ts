// Mastering to a loudness target under a true-peak ceiling: measure once, apply gain, limit.
// The true-peak envelope of the toned mix is computed once; because it scales linearly with gain,
// each gain/ceiling iteration is a cheap limiter pass instead of a new oversampled analysis.
import type { MasteringReport, MasteringSettings } from '../shared/mastering';
import { Equalizer } from './channel-strip';
import { Compressor, dbToGain, gainToDb, onePoleCoefficient } from './dynamics';
import { integratedLoudness, measureLoudness, measureLoudnessWithoutPeaks, type LoudnessReport } from './loudness';
import { addFourTimesThirtyTwoTapEnvelope, amplitudeToDb, oversamplingFactor, samplePeak, truePeak, truePeakInterpolatorTaps, TRUE_PEAK_TAPS_PER_PHASE, truePeakDb } from './true-peak';
import { sanitizeSamples } from './peaks';
import { activeDspKernels } from './kernels';
import { kernelBlockAbsMaxima, kernelLimitWithLookahead, kernelSlidingMaxRange } from './kernel-streams';

const LOOKAHEAD_MS = 1.5;
const RELEASE_MS = 60;
const BLOCK = 4096;
// The limiter aims a little under the ceiling: its smooth gain changes add tiny inter-sample overs.
const INTERNAL_MARGIN_DB = 0.1;
// A tenth of a loudness unit, the resolution meters show; the file itself must land within ±0.5 LU.
const LOUDNESS_TOLERANCE_LU = 0.1;
const MAX_ITERATIONS = 16;

export interface MasterOptions {
  signal?: { readonly aborted: boolean };
  onProgress?: (fraction: number, stage: string) => void;
  /** Extra headroom under the ceiling, e.g. after an encoded file measured over it. */
  extraHeadroomDb?: number;
  /** Correction added to the gain, e.g. after the encoded file measured off target. */
  gainTrimDb?: number;
}

function checkAbort(signal?: { readonly aborted: boolean }): void {
  if (signal?.aborted) {
    const e = new Error('Mastering cancelled');
    e.name = 'AbortError';
    throw e;
  }
}

/** EQ → bus compressor → stereo width, on copies so the unmastered mix stays intact for A/B. */
export function toneMix(left: Float32Array, right: Float32Array, sampleRate: number, s: MasteringSettings): { left: Float32Array; right: Float32Array; nonFinite: number } {
  const l = left.slice();
  const r = right.slice();
  const nonFinite = sanitizeSamples(l) + sanitizeSamples(r);
  const eq = new Equalizer(sampleRate, 2);
  eq.setSettings(s.eqEnabled, s.eq);
  const comp = s.comp.enabled ? new Compressor(sampleRate, s.comp) : null;
  const width = Math.min(2, Math.max(0, s.width));
  for (let start = 0; start < l.length; start += BLOCK) {
    const n = Math.min(BLOCK, l.length - start);
    const chans = [l.subarray(start, start + n), r.subarray(start, start + n)];
    eq.process(chans, 2, n);
    comp?.process(chans, 2, n);
  }
  if (width !== 1) {
    for (let i = 0; i < l.length; i++) {
      const mid = 0.5 * (l[i] + r[i]);
      const side = 0.5 * (l[i] - r[i]) * width;
      l[i] = mid + side;
      r[i] = mid - side;
    }
  }
  return { left: l, right: r, nonFinite };
}

// Between two samples a band-limited signal rarely rises more than ~3.5 dB above its four nearest
// samples; where even that cannot reach the threshold, the exact interpolation is skipped. The
// shortcut is guarded: masterMix measures the result exactly and lowers the ceiling if it was wrong.
const NEAR_PEAK_BOUND = 1.5;
/** Samples the 4× envelope skips or computes together. */
const ENVELOPE_BLOCK = 32;

/**
 * Per-sample true-peak envelope: the largest |value| of the oversampled signal in [n, n+1),
 * over both channels, computed exactly wherever it could exceed `floor`. Below the floor it holds
 * an estimate no higher than the floor (0 where a whole block stays under it): a limiter whose
 * gain keeps gain · floor under its ceiling never acts there, whatever the value.
 */
export function truePeakEnvelope(left: Float32Array, right: Float32Array, sampleRate: number, floor: number): Float32Array {
  const n = left.length;
  const env = new Float32Array(n);
  const factor = oversamplingFactor(sampleRate);
  const T = TRUE_PEAK_TAPS_PER_PHASE;
  const half = T / 2;
  if (factor === 4 && T === 32) {
    for (const ch of [left, right]) envelopeOfChannelFourTimes(ch, floor / NEAR_PEAK_BOUND, env);
    return slidingMax(env, half, half);
  }
  const taps = truePeakInterpolatorTaps(factor, T);
  // Zero-padded copy: the interpolation around sample c reads padded[c … c+T-1].
  const padded = new Float32Array(n + T);
  for (const ch of [left, right]) {
    padded.set(ch, half - 1);
    envelopeOfChannel(padded, n, taps, T, factor - 1, floor / NEAR_PEAK_BOUND, env);
  }
  return slidingMax(env, half, half);
}

/**
 * The 4×, 32-tap envelope (44.1/48 kHz) of one channel, added to env. Blocks whose samples' four
 * nearest neighbours all stay under nearFloor are skipped; each run of the others goes through the
 * true-peak detector's unrolled kernel in one call.
 */
function envelopeOfChannelFourTimes(x: Float32Array, nearFloor: number, env: Float32Array): void {
  const n = x.length;
  // Centres in [15, n - 16) read x[c - 15 … c + 16] in place; the few at either end use a padded copy.
  const lo = 15;
  const hi = n - 16;
  const edge = (from: number, to: number) => {
    const scratch = new Float32Array(to - from + 31);
    for (let k = 0; k < scratch.length; k++) {
      const j = from - 15 + k;
      if (j >= 0 && j < n) scratch[k] = x[j];
    }
    addFourTimesThirtyTwoTapEnvelope(scratch, 15, 15 + to - from, env, 15 - from);
  };
  const exact = (from: number, to: number) => {
    const a = Math.max(from, lo);
    const b = Math.min(to, hi);
    if (a >= b) return edge(from, to);
    if (from < a) edge(from, a);
    addFourTimesThirtyTwoTapEnvelope(x, a, b, env, 0);
    if (b < to) edge(b, to);
  };
  let runStart = -1;
  const blockMax = blockAbsMaxima(x, ENVELOPE_BLOCK);
  const abs = (j: number) => (j >= 0 && j < n ? (x[j] < 0 ? -x[j] : x[j]) : 0);
  for (let start = 0, b = 0; start < n; start += ENVELOPE_BLOCK, b++) {
    const end = Math.min(n, start + ENVELOPE_BLOCK);
    // The four nearest samples of centres start … end-1 are start-1 … end+1.
    let near = blockMax ? Math.max(blockMax[b], abs(start - 1), abs(end), abs(end + 1)) : 0;
    if (!blockMax) {
      for (let j = Math.max(0, start - 1), last = Math.min(n, end + 2); j < last; j++) {
        const a = x[j] < 0 ? -x[j] : x[j];
        if (a > near) near = a;
      }
    }
    if (near > nearFloor) {
      if (runStart < 0) runStart = start;
    } else if (runStart >= 0) {
      exact(runStart, start);
      runStart = -1;
    }
  }
  if (runStart >= 0) exact(runStart, n);
}

/** max |x| over each `block` samples of x, on the kernels; null without them (the caller scans itself). */
function blockAbsMaxima(x: Float32Array, block: number): Float32Array | null {
  const kernels = activeDspKernels();
  return kernels ? kernelBlockAbsMaxima(kernels, x, block) : null;
}

function envelopeOfChannel(padded: Float32Array, n: number, taps: Float64Array, T: number, phases: number, nearFloor: number, env: Float32Array): void {
  const half = T / 2;
  for (let c = 0; c < n; c++) {
    // Samples c-1 … c+2 in padded coordinates.
    const i = c + half - 1;
    const near = Math.max(Math.abs(padded[i - 1] ?? 0), Math.abs(padded[i]), Math.abs(padded[i + 1]), Math.abs(padded[i + 2] ?? 0));
    let peak = Math.abs(padded[i]);
    if (phases > 0 && near <= nearFloor) {
      peak = near * NEAR_PEAK_BOUND;
    } else {
      for (let p = 0; p < phases; p++) {
        let acc = 0;
        for (let k = 0; k < T; k++) acc += taps[p * T + k] * padded[c + k];
        peak = Math.max(peak, Math.abs(acc));
      }
    }
    if (peak > env[c]) env[c] = peak;
  }
}

/** Stretches of this many samples that are all zero are found with one comparison each. */
const ZERO_SCAN_BLOCK = 256;

/**
 * Sliding maximum of a non-negative signal over [i - before, i + after]. Only outputs near non-zero
 * input are computed (an envelope is zero wherever it was skipped); those by van Herk / Gil-Werman:
 * about three comparisons per sample whatever the window, with no data-dependent queue.
 */
export function slidingMax(src: Float32Array, before: number, after: number): Float32Array {
  const n = src.length;
  const out = new Float32Array(n);
  let rangeStart = -1;
  let rangeEnd = -1;
  for (let start = 0; start < n; start += ZERO_SCAN_BLOCK) {
    const end = Math.min(n, start + ZERO_SCAN_BLOCK);
    let any = false;
    for (let j = start; j < end; j++) {
      if (src[j] !== 0) {
        any = true;
        break;
      }
    }
    if (!any) continue;
    // Outputs that can see this block.
    const from = Math.max(0, start - after);
    const to = Math.min(n, end + before);
    if (from > rangeEnd) {
      if (rangeStart >= 0) slidingMaxRange(src, before, after, out, rangeStart, rangeEnd);
      rangeStart = from;
    }
    rangeEnd = to;
  }
  if (rangeStart >= 0) slidingMaxRange(src, before, after, out, rangeStart, rangeEnd);
  return out;
}

/** out[i] = max src[i - before … i + after] (within the signal) for i in [from, to). */
function slidingMaxRange(src: Float32Array, before: number, after: number, out: Float32Array, from: number, to: number): void {
  const kernels = activeDspKernels();
  if (kernels && kernelSlidingMaxRange(kernels, src, before, after, out, from, to)) return;
  const n = src.length;
  const w = before + after + 1;
  // Window i covers source [i - before, i + after]; blocks of w window starts share one suffix table.
  const suffix = new Float32Array(w);
  for (let blockStart = from; blockStart < to; blockStart += w) {
    // Suffix maxima of source [blockStart - before + k, blockStart - before + w), k = 0 … w-1.
    let m = 0;
    const lo = blockStart - before;
    for (let k = w - 1; k >= 0; k--) {
      const j = lo + k;
      if (j >= 0 && j < n && src[j] > m) m = src[j];
      suffix[k] = m;
    }
    // Window blockStart + k adds source [blockStart - before + w, blockStart - before + w + k).
    let p = 0;
    const blockEnd = Math.min(to, blockStart + w);
    for (let i = blockStart, k = 0; i < blockEnd; i++, k++) {
      out[i] = suffix[k] > p ? suffix[k] : p;
      const j = lo + w + k;
      if (j < n && src[j] > p) p = src[j];
    }
  }
}

/** Lookahead of the limiter in samples at this rate. */
function lookaheadFrames(sampleRate: number): number {
  return Math.max(1, Math.round((LOOKAHEAD_MS / 1000) * sampleRate));
}

/** The envelope's maximum over each sample's lookahead window [i, i + lookahead]: independent of gain and ceiling. */
export function lookaheadPeak(env: Float32Array, sampleRate: number): Float32Array {
  return slidingMax(env, 0, lookaheadFrames(sampleRate));
}

/**
 * Lookahead limiter driven by a precomputed envelope: gain = box-smoothed, released sliding minimum
 * of ceiling / (gain · envelope), so every sample is attenuated before it arrives (no delay offline).
 */
export function limitWithEnvelope(left: Float32Array, right: Float32Array, env: Float32Array, gain: number, ceiling: number, sampleRate: number): { left: Float32Array; right: Float32Array } {
  return limitWithLookahead(left, right, env, lookaheadPeak(env, sampleRate), gain, ceiling, sampleRate);
}

/**
 * limitWithEnvelope with the envelope's lookahead maximum given, so a pass is one loop. The sliding
 * minimum of the required gain over [i, i + lookahead] is the required gain of that window's largest
 * envelope value: both the division and the float32 rounding are monotonic.
 */
function limitWithLookahead(
  left: Float32Array,
  right: Float32Array,
  env: Float32Array,
  ahead: Float32Array,
  gain: number,
  ceiling: number,
  sampleRate: number,
  into?: { left: Float32Array; right: Float32Array },
): { left: Float32Array; right: Float32Array } {
  const n = left.length;
  const la = lookaheadFrames(sampleRate);
  const aR = onePoleCoefficient(RELEASE_MS, sampleRate);
  const kernels = activeDspKernels();
  const onKernels = kernels && kernelLimitWithLookahead(kernels, left, right, env, ahead, gain, ceiling, aR, la, into);
  if (onKernels) return onKernels;
  const fround = Math.fround;
  const outL = into?.left ?? new Float32Array(n);
  const outR = into?.right ?? new Float32Array(n);
  let released = 1;
  const box = new Float64Array(la).fill(1);
  let boxSum = la;
  let boxPos = 0;
  for (let i = 0; i < n; i++) {
    const pa = gain * ahead[i];
    const target = pa > ceiling ? fround(ceiling / pa) : 1;
    released = target < released ? target : target + aR * (released - target);
    boxSum += released - box[boxPos];
    box[boxPos] = released;
    if (++boxPos === la) boxPos = 0;
    const p = gain * env[i];
    const required = p > ceiling ? fround(ceiling / p) : 1;
    // Box average of values each ≤ required (they saw i inside their window) stays ≤ it.
    const smoothed = boxSum / la;
    const g = gain * (smoothed < required ? smoothed : required);
    outL[i] = left[i] * g;
    outR[i] = right[i] * g;
  }
  return { left: outL, right: outR };
}

export interface MasteredAudio {
  left: Float32Array;
  right: Float32Array;
  report: MasteringReport;
}

/**
 * What a mastering pass computes before it chooses gain and ceiling. A later pass over the same
 * mix and tone settings (e.g. with more headroom after an encode) reuses it and only re-limits.
 */
export interface MasteringAnalysis {
  /** The unmastered mix's own measurement; null while it is measured elsewhere (in parallel). */
  input: LoudnessReport | null;
  toned: { left: Float32Array; right: Float32Array; nonFinite: number };
  tonedLoudness: number;
  env: Float32Array | null;
  /** The envelope's maximum over each sample's lookahead window. */
  ahead: Float32Array | null;
  envFloor: number;
  /** The envelope's largest value: the toned mix's true peak (exact, as it is above the floor wherever it counts). */
  envPeak: number;
}

export function analyseForMastering(left: Float32Array, right: Float32Array, sampleRate: number, s: MasteringSettings, opts: { measureInput?: boolean } = {}): MasteringAnalysis {
  const input = opts.measureInput === false ? null : measureLoudness([left, right], sampleRate);
  const toned = toneMix(left, right, sampleRate, s);
  const tonedLoudness = integratedLoudness([toned.left, toned.right], sampleRate);
  return { input, toned, tonedLoudness, env: null, ahead: null, envFloor: Infinity, envPeak: 0 };
}

/** Adds the sample and true peak to a report measured without them: the same figures as measureLoudness. */
function withPeaks(report: LoudnessReport, channels: Float32Array[], sampleRate: number): LoudnessReport {
  const sample = samplePeak(channels);
  return { ...report, truePeakDb: amplitudeToDb(truePeak(channels, sampleRate, sample)), samplePeakDb: amplitudeToDb(sample) };
}

/**
 * Slope of loudness against gain (LU per dB) between two passes, for the gain search's next step: 1 without a second
 * point, and kept within [0.25, 1] (limiting only ever takes loudness away, and a flat stretch must not send the gain
 * flying).
 */
export function secantSlope(a: { gainDb: number; lufs: number } | null, b: { gainDb: number; lufs: number }): number {
  if (!a || Math.abs(b.gainDb - a.gainDb) < 1e-6) return 1;
  const slope = (b.lufs - a.lufs) / (b.gainDb - a.gainDb);
  return Number.isFinite(slope) ? Math.min(1, Math.max(0.25, slope)) : 1;
}

/** The whole mastering chain for a rendered stereo mix. */
export function masterMix(left: Float32Array, right: Float32Array, sampleRate: number, s: MasteringSettings, opts: MasterOptions & { analysis?: MasteringAnalysis } = {}): MasteredAudio {
  opts.onProgress?.(0.1, 'analyse');
  const analysis = opts.analysis ?? analyseForMastering(left, right, sampleRate, s);
  const input = (analysis.input ??= measureLoudness([left, right], sampleRate));
  return withInput(masterAnalysed(analysis, sampleRate, s, opts), input);
}

/** A master whose report still lacks the unmastered mix's measurement (see withInput). */
export interface MasteredWithoutInput {
  left: Float32Array;
  right: Float32Array;
  report: Omit<MasteringReport, 'input'>;
}

/** Completes a master with the unmastered mix's measurement and what it warns about. */
export function withInput(mastered: MasteredWithoutInput, input: LoudnessReport): MasteredAudio {
  const warnings = [...mastered.report.warnings];
  // After the note about replaced samples, where masterMix has always put it.
  const at = warnings.length > 0 && warnings[0].includes('NaN/Infinity') ? 1 : 0;
  if (input.samplePeakDb >= -0.01) warnings.splice(at, 0, 'The mix reaches full scale (0 dBFS): it may already be clipped before mastering.');
  return { left: mastered.left, right: mastered.right, report: { input, ...mastered.report, warnings } };
}

/**
 * Everything of masterMix after the analysis except the input's own measurement, so that one can
 * run at the same time elsewhere (the second render worker).
 */
export function masterAnalysed(analysis: MasteringAnalysis, sampleRate: number, s: MasteringSettings, opts: MasterOptions = {}): MasteredWithoutInput {
  const progress = opts.onProgress ?? (() => {});
  const warnings: string[] = [];
  const { toned, tonedLoudness } = analysis;
  checkAbort(opts.signal);
  if (toned.nonFinite > 0) warnings.push(`${toned.nonFinite} NaN/Infinity samples in the mix were replaced with silence.`);
  const ceilingDb = s.ceilingDbtp - (opts.extraHeadroomDb ?? 0);
  const ceiling = dbToGain(ceilingDb - INTERNAL_MARGIN_DB);

  if (!Number.isFinite(tonedLoudness) || tonedLoudness < -70) {
    warnings.push('The mix is silent (below −70 LUFS): there is nothing to bring to the target, so no gain was applied.');
    const out = limitWithEnvelope(toned.left, toned.right, new Float32Array(toned.left.length), 1, ceiling, sampleRate);
    return { ...out, report: { output: measureLoudness([out.left, out.right], sampleRate), gainDb: 0, gainCapped: false, limiterCeilingDb: ceilingDb, warnings } };
  }

  let gainDb = s.targetLufs - tonedLoudness + (opts.gainTrimDb ?? 0);
  let gainCapped = false;
  if (gainDb > s.maxGainDb) {
    warnings.push(
      `The mix is very quiet (${tonedLoudness.toFixed(1)} LUFS): reaching ${s.targetLufs} LUFS would need +${gainDb.toFixed(1)} dB, so gain was capped at +${s.maxGainDb} dB.`,
    );
    gainDb = s.maxGainDb;
    gainCapped = true;
  }
  progress(0.4, 'true-peak analysis');
  // Below this level no gain the loop is likely to try reaches the ceiling (it is re-checked exactly).
  let limiterCeiling = ceiling;
  const limit = () => {
    // The envelope is exact only above its floor; (re)compute it when the gain climbed past it.
    if (!analysis.env || limiterCeiling / dbToGain(gainDb) < analysis.envFloor) {
      analysis.envFloor = limiterCeiling / dbToGain(Math.min(gainDb + 2, s.maxGainDb));
      analysis.env = truePeakEnvelope(toned.left, toned.right, sampleRate, analysis.envFloor);
      analysis.ahead = lookaheadPeak(analysis.env, sampleRate);
      analysis.envPeak = samplePeak([analysis.env]);
    }
    // Each pass overwrites the last one's output, which has been measured by then: fresh memory is slow to touch.
    return limitWithLookahead(toned.left, toned.right, analysis.env, analysis.ahead!, dbToGain(gainDb), limiterCeiling, sampleRate, previous);
  };
  let previous: { left: Float32Array; right: Float32Array } | undefined;

  // Alternate cheap loudness fixes with true-peak checks until both hold: heavy limiting can
  // leave inter-sample overs above the margin, so the limiter's own ceiling moves down by the excess.
  let out = (previous = limit());
  let output: LoudnessReport | null = null;
  // The last pass's gain and loudness under the current limiter ceiling, for a secant step (null: none yet).
  let last: { gainDb: number; lufs: number } | null = null;
  for (let it = 0; it < MAX_ITERATIONS; it++) {
    checkAbort(opts.signal);
    progress(Math.min(0.9, 0.5 + 0.03 * it), 'limit');
    const loudness = measureLoudnessWithoutPeaks([out.left, out.right], sampleRate);
    const miss = s.targetLufs + (opts.gainTrimDb ?? 0) - loudness.integratedLufs;
    if (Math.abs(miss) > LOUDNESS_TOLERANCE_LU && !gainCapped) {
      // Limiting eats loudness, so the gain moves by more than the miss: by the miss over the slope of loudness against
      // gain, taken between this pass and the last one, or before a second pass between this one and the gain where the
      // limiter starts to act (below it the output is the toned mix scaled, so that point is exact).
      const here = { gainDb, lufs: loudness.integratedLufs };
      const knee = gainToDb(limiterCeiling / analysis.envPeak);
      const from = last ?? (knee < gainDb - 0.5 ? { gainDb: knee, lufs: tonedLoudness + knee } : null);
      last = here;
      gainDb = Math.min(gainDb + miss / secantSlope(from, here), s.maxGainDb);
      if (gainDb === s.maxGainDb) gainCapped = true;
    } else {
      // The loudness just measured is the output's: only the peaks are still needed.
      output = withPeaks(loudness, [out.left, out.right], sampleRate);
      const over = output.truePeakDb - ceilingDb;
      if (over <= 0) break;
      limiterCeiling *= dbToGain(-(over + 0.02));
      output = null;
      // A lower ceiling is another curve: its first step starts again from its own knee.
      last = null;
    }
    out = limit();
  }
  output ??= measureLoudness([out.left, out.right], sampleRate);
  if (gainCapped && !warnings.some((w) => w.includes('capped'))) {
    warnings.push(`Reaching ${s.targetLufs} LUFS under a ${s.ceilingDbtp} dBTP ceiling needs more than +${s.maxGainDb} dB of gain; the gain was capped.`);
  }
  const limiting = gainDb + tonedLoudness - output.integratedLufs;
  if (limiting > 6) warnings.push(`The limiter is taking about ${limiting.toFixed(1)} dB off the peaks: expect audible squashing. A lower target or a more dynamic-friendly mix would help.`);
  progress(1, 'done');
  return { ...out, report: { output, gainDb, gainCapped, limiterCeilingDb: ceilingDb, warnings } };
}

export { truePeakDb, gainToDb };
export { MASTERING_PRESETS, defaultMasteringSettings, type MasteringPresetId, type MasteringSettings, type MasteringReport } from '../shared/mastering';

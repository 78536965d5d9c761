// Mastering to a loudness target under a true-peak ceiling: measure once, apply gain, limit.
// The true-peak envelope of the toned mix is computed once; because it scales linearly with gain,
// each gain/ceiling iteration is a cheap limiter pass instead of a new oversampled analysis.
import type { MasteringReport, MasteringSettings } from '../shared/mastering';
import { Equalizer } from './channel-strip';
import { Compressor, dbToGain, gainToDb, onePoleCoefficient } from './dynamics';
import { integratedLoudness, measureLoudness, type LoudnessReport } from './loudness';
import { oversamplingFactor, truePeakInterpolatorTaps, TRUE_PEAK_TAPS_PER_PHASE, truePeakDb } from './true-peak';
import { sanitizeSamples } from './peaks';

const LOOKAHEAD_MS = 1.5;
const RELEASE_MS = 60;
const BLOCK = 4096;
// The limiter aims a little under the ceiling: its smooth gain changes add tiny inter-sample overs.
const INTERNAL_MARGIN_DB = 0.1;
const LOUDNESS_TOLERANCE_LU = 0.05;
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
  const l = Float32Array.from(left);
  const r = Float32Array.from(right);
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

/**
 * Per-sample true-peak envelope: the largest |value| of the oversampled signal in [n, n+1),
 * over both channels, computed exactly wherever it could exceed `floor`.
 */
export function truePeakEnvelope(left: Float32Array, right: Float32Array, sampleRate: number, floor: number): Float32Array {
  const n = left.length;
  const env = new Float32Array(n);
  const factor = oversamplingFactor(sampleRate);
  const T = TRUE_PEAK_TAPS_PER_PHASE;
  const half = T / 2;
  const taps = truePeakInterpolatorTaps(factor, T);
  // Zero-padded copy: the interpolation around sample c reads padded[c … c+T-1].
  const padded = new Float32Array(n + T);
  for (const ch of [left, right]) {
    padded.set(ch, half - 1);
    envelopeOfChannel(padded, n, taps, T, factor - 1, floor / NEAR_PEAK_BOUND, env);
    padded.fill(0);
  }
  return dilate(env, half);
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
    } else if (phases === 3) {
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let k = 0; k < T; k++) {
        const x = padded[c + k];
        a1 += taps[k] * x;
        a2 += taps[T + k] * x;
        a3 += taps[2 * T + k] * x;
      }
      if (a1 < 0) a1 = -a1;
      if (a2 < 0) a2 = -a2;
      if (a3 < 0) a3 = -a3;
      if (a1 > peak) peak = a1;
      if (a2 > peak) peak = a2;
      if (a3 > peak) peak = a3;
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

/** Sliding maximum over ±radius: an output sample interpolates its neighbours, so their gain must already be down too. */
function dilate(env: Float32Array, radius: number): Float32Array {
  const n = env.length;
  const out = new Float32Array(n);
  const dq = new Int32Array(n + 1);
  let head = 0;
  let tail = 0;
  for (let j = 0; j < n + radius; j++) {
    if (j < n) {
      while (tail > head && env[dq[tail - 1]] <= env[j]) tail--;
      dq[tail++] = j;
    }
    const i = j - radius;
    if (i >= 0) {
      while (dq[head] < i - radius) head++;
      out[i] = env[dq[head]];
    }
  }
  return out;
}

/**
 * Lookahead limiter driven by a precomputed envelope: gain = box-smoothed, released sliding minimum
 * of ceiling / (gain · envelope), so every sample is attenuated before it arrives (no delay offline).
 */
export function limitWithEnvelope(left: Float32Array, right: Float32Array, env: Float32Array, gain: number, ceiling: number, sampleRate: number): { left: Float32Array; right: Float32Array } {
  const n = left.length;
  const la = Math.max(1, Math.round((LOOKAHEAD_MS / 1000) * sampleRate));
  const aR = onePoleCoefficient(RELEASE_MS, sampleRate);
  const required = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const p = gain * env[i];
    required[i] = p > ceiling ? ceiling / p : 1;
  }
  // Sliding minimum over the future window [i, i + la] with a monotonic deque.
  const windowMin = new Float32Array(n);
  const dq = new Int32Array(n + la + 1);
  let head = 0;
  let tail = 0;
  for (let j = 0; j < n + la; j++) {
    if (j < n) {
      const v = required[j];
      while (tail > head && required[dq[tail - 1]] >= v) tail--;
      dq[tail++] = j;
    }
    const i = j - la;
    if (i >= 0) {
      while (dq[head] < i) head++;
      windowMin[i] = required[dq[head]];
    }
  }
  const outL = new Float32Array(n);
  const outR = new Float32Array(n);
  let released = 1;
  const box = new Float64Array(la).fill(1);
  let boxSum = la;
  let boxPos = 0;
  for (let i = 0; i < n; i++) {
    const target = windowMin[i];
    released = target < released ? target : target + aR * (released - target);
    boxSum += released - box[boxPos];
    box[boxPos] = released;
    if (++boxPos === la) boxPos = 0;
    // Box average of values each ≤ required[i] (they saw i inside their window) stays ≤ it.
    const g = gain * Math.min(boxSum / la, required[i]);
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
  input: LoudnessReport;
  toned: { left: Float32Array; right: Float32Array; nonFinite: number };
  tonedLoudness: number;
  env: Float32Array | null;
  envFloor: number;
}

export function analyseForMastering(left: Float32Array, right: Float32Array, sampleRate: number, s: MasteringSettings): MasteringAnalysis {
  const input = measureLoudness([left, right], sampleRate);
  const toned = toneMix(left, right, sampleRate, s);
  const tonedLoudness = integratedLoudness([toned.left, toned.right], sampleRate);
  return { input, toned, tonedLoudness, env: null, envFloor: Infinity };
}

/** The whole mastering chain for a rendered stereo mix. */
export function masterMix(left: Float32Array, right: Float32Array, sampleRate: number, s: MasteringSettings, opts: MasterOptions & { analysis?: MasteringAnalysis } = {}): MasteredAudio {
  const progress = opts.onProgress ?? (() => {});
  const warnings: string[] = [];
  progress(0.1, 'analyse');
  const analysis = opts.analysis ?? analyseForMastering(left, right, sampleRate, s);
  const { input, toned, tonedLoudness } = analysis;
  checkAbort(opts.signal);
  if (toned.nonFinite > 0) warnings.push(`${toned.nonFinite} NaN/Infinity samples in the mix were replaced with silence.`);
  if (input.samplePeakDb >= -0.01) warnings.push('The mix reaches full scale (0 dBFS): it may already be clipped before mastering.');
  const ceilingDb = s.ceilingDbtp - (opts.extraHeadroomDb ?? 0);
  const ceiling = dbToGain(ceilingDb - INTERNAL_MARGIN_DB);

  if (!Number.isFinite(tonedLoudness) || tonedLoudness < -70) {
    warnings.push('The mix is silent (below −70 LUFS): there is nothing to bring to the target, so no gain was applied.');
    const out = limitWithEnvelope(toned.left, toned.right, new Float32Array(toned.left.length), 1, ceiling, sampleRate);
    return { ...out, report: { input, output: measureLoudness([out.left, out.right], sampleRate), gainDb: 0, gainCapped: false, limiterCeilingDb: ceilingDb, warnings } };
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
    }
    return limitWithEnvelope(toned.left, toned.right, analysis.env, dbToGain(gainDb), limiterCeiling, sampleRate);
  };

  // Alternate cheap loudness fixes with true-peak checks until both hold: heavy limiting can
  // leave inter-sample overs above the margin, so the limiter's own ceiling moves down by the excess.
  let out = limit();
  let output: LoudnessReport | null = null;
  for (let it = 0; it < MAX_ITERATIONS; it++) {
    checkAbort(opts.signal);
    progress(Math.min(0.9, 0.5 + 0.03 * it), 'limit');
    const outputLufs = integratedLoudness([out.left, out.right], sampleRate);
    const miss = s.targetLufs + (opts.gainTrimDb ?? 0) - outputLufs;
    if (Math.abs(miss) > LOUDNESS_TOLERANCE_LU && !gainCapped) {
      // Limiting eats loudness; push the gain until the limited result lands on target.
      gainDb = Math.min(gainDb + miss, s.maxGainDb);
      if (gainDb === s.maxGainDb) gainCapped = true;
    } else {
      output = measureLoudness([out.left, out.right], sampleRate);
      const over = output.truePeakDb - ceilingDb;
      if (over <= 0) break;
      limiterCeiling *= dbToGain(-(over + 0.02));
      output = null;
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
  return { ...out, report: { input, output, gainDb, gainCapped, limiterCeilingDb: ceilingDb, warnings } };
}

export { truePeakDb, gainToDb };
export { MASTERING_PRESETS, defaultMasteringSettings, type MasteringPresetId, type MasteringSettings, type MasteringReport } from '../shared/mastering';

import { describe, expect, it } from 'vitest';
import {
  analyseForMastering,
  defaultMasteringSettings,
  limitWithEnvelope,
  masterAnalysed,
  masterMix,
  secantSlope,
  slidingMax,
  toneMix,
  truePeakEnvelope,
  withInput,
  type MasteringPresetId,
} from '../../src/dsp/mastering';
import { integratedLoudness, measureLoudness } from '../../src/dsp/loudness';
import { oversamplingFactor, TRUE_PEAK_TAPS_PER_PHASE, truePeakDb, truePeakInterpolatorTaps } from '../../src/dsp/true-peak';
import { onePoleCoefficient } from '../../src/dsp/dynamics';

const RATE = 44100;

/** A crude but musical test mix: detuned saws, a kick-like thump and noise, with dynamics. */
function testMix(seconds: number, level = 0.3, seed = 1): [Float32Array, Float32Array] {
  const n = Math.round(seconds * RATE);
  const l = new Float32Array(n);
  const r = new Float32Array(n);
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const beat = t % 0.5;
    const kick = Math.sin(2 * Math.PI * 55 * beat * (1 + 3 * Math.exp(-beat * 30))) * Math.exp(-beat * 8);
    const saw = ((t * 220) % 1) * 2 - 1;
    const saw2 = ((t * 221.3) % 1) * 2 - 1;
    const swell = 0.5 + 0.5 * Math.sin(2 * Math.PI * 0.2 * t);
    l[i] = level * (0.8 * kick + 0.25 * swell * saw + 0.05 * rand());
    r[i] = level * (0.8 * kick + 0.25 * swell * saw2 + 0.05 * rand());
  }
  return [l, r];
}

describe('secantSlope', () => {
  it('is the slope between two passes, 1 without a second one, and kept within [0.25, 1]', () => {
    expect(secantSlope(null, { gainDb: 3, lufs: -15 })).toBe(1);
    expect(secantSlope({ gainDb: 3, lufs: -15 }, { gainDb: 3, lufs: -14 })).toBe(1);
    expect(secantSlope({ gainDb: 2, lufs: -15 }, { gainDb: 4, lufs: -13.4 })).toBeCloseTo(0.8, 12);
    expect(secantSlope({ gainDb: 4, lufs: -13.4 }, { gainDb: 2, lufs: -15 })).toBeCloseTo(0.8, 12);
    expect(secantSlope({ gainDb: 2, lufs: -15 }, { gainDb: 4, lufs: -14.99 })).toBe(0.25);
    expect(secantSlope({ gainDb: 2, lufs: -15 }, { gainDb: 4, lufs: -11 })).toBe(1);
    expect(secantSlope({ gainDb: 2, lufs: -Infinity }, { gainDb: 4, lufs: -11 })).toBe(1);
  });
});

describe('masterMix', () => {
  for (const preset of ['streaming', 'podcast', 'broadcast'] as MasteringPresetId[]) {
    it(`hits the ${preset} target within 0.5 LU under the true-peak ceiling`, () => {
      const [l, r] = testMix(20);
      const s = defaultMasteringSettings(preset);
      const out = masterMix(l, r, RATE, s);
      const lufs = integratedLoudness([out.left, out.right], RATE);
      const tp = truePeakDb([out.left, out.right], RATE);
      expect(Math.abs(lufs - s.targetLufs)).toBeLessThanOrEqual(0.5);
      expect(tp).toBeLessThanOrEqual(s.ceilingDbtp);
      expect(out.report.output.integratedLufs).toBeCloseTo(lufs, 5);
      // The input is untouched, so the unmastered mix stays available for A/B.
      expect(l[1000]).toBe(testMix(20)[0][1000]);
    });
  }

  it('limits hard when the target is loud for the material, still under the ceiling', () => {
    const [l, r] = testMix(10, 0.3);
    const s = { ...defaultMasteringSettings('custom'), targetLufs: -8, ceilingDbtp: -1 };
    const out = masterMix(l, r, RATE, s);
    expect(truePeakDb([out.left, out.right], RATE)).toBeLessThanOrEqual(-1);
    expect(Math.abs(integratedLoudness([out.left, out.right], RATE) + 8)).toBeLessThanOrEqual(0.5);
  });

  it('lands within 0.1 LU of the target however hard it limits, its report true to the output', () => {
    for (const targetLufs of [-23, -16, -14, -11, -8]) {
      const [l, r] = testMix(10, 0.3, 5);
      const s = { ...defaultMasteringSettings('custom'), targetLufs, ceilingDbtp: -1 };
      const out = masterMix(l, r, RATE, s);
      const lufs = integratedLoudness([out.left, out.right], RATE);
      expect(Math.abs(lufs - targetLufs), `target ${targetLufs}`).toBeLessThanOrEqual(0.1);
      expect(out.report.output.integratedLufs).toBeCloseTo(lufs, 5);
      expect(truePeakDb([out.left, out.right], RATE)).toBeLessThanOrEqual(-1);
    }
  });

  it('caps the gain for an extremely quiet mix and says so', () => {
    const [l, r] = testMix(10, 0.003); // about −55 LUFS: +41 dB would be needed
    const out = masterMix(l, r, RATE, defaultMasteringSettings('streaming'));
    expect(out.report.gainCapped).toBe(true);
    expect(out.report.gainDb).toBeLessThanOrEqual(24);
    expect(out.report.warnings.join(' ')).toMatch(/capped/);
  });

  it('leaves a silent mix silent with a clear warning', () => {
    const out = masterMix(new Float32Array(RATE * 5), new Float32Array(RATE * 5), RATE, defaultMasteringSettings('streaming'));
    expect(out.report.gainDb).toBe(0);
    expect(out.report.warnings.join(' ')).toMatch(/silent/);
    expect(out.left.every((v) => v === 0)).toBe(true);
  });

  it('sanitizes NaN and Infinity samples and warns', () => {
    const [l, r] = testMix(5);
    l[100] = NaN;
    r[200] = Infinity;
    l[300] = -Infinity;
    const out = masterMix(l, r, RATE, defaultMasteringSettings('streaming'));
    expect(out.report.warnings.join(' ')).toMatch(/3 NaN\/Infinity/);
    expect(out.left.every(Number.isFinite) && out.right.every(Number.isFinite)).toBe(true);
    expect(truePeakDb([out.left, out.right], RATE)).toBeLessThanOrEqual(-1);
  });

  it('handles clipped input: warns, and the output meets the ceiling', () => {
    const [l, r] = testMix(8, 3);
    for (const ch of [l, r]) for (let i = 0; i < ch.length; i++) ch[i] = Math.max(-1, Math.min(1, ch[i]));
    const out = masterMix(l, r, RATE, defaultMasteringSettings('streaming'));
    expect(out.report.warnings.join(' ')).toMatch(/clipped/);
    expect(truePeakDb([out.left, out.right], RATE)).toBeLessThanOrEqual(-1);
  });

  it('narrows to mono at width 0', () => {
    const [l, r] = testMix(3);
    const out = masterMix(l, r, RATE, { ...defaultMasteringSettings('streaming'), width: 0 });
    let diff = 0;
    for (let i = 0; i < out.left.length; i++) diff = Math.max(diff, Math.abs(out.left[i] - out.right[i]));
    expect(diff).toBeLessThan(1e-6);
  });
});

describe('mastering building blocks', () => {
  /** Per-sample peak of the oversampled signal in [n, n+1) over both channels, by direct convolution, then dilated by ±T/2. */
  function referenceEnvelope(channels: Float32Array[], sampleRate: number): Float32Array {
    const factor = oversamplingFactor(sampleRate);
    const T = TRUE_PEAK_TAPS_PER_PHASE;
    const taps = truePeakInterpolatorTaps(factor, T);
    const n = channels[0].length;
    const raw = new Float32Array(n);
    for (const x of channels) {
      for (let c = 0; c < n; c++) {
        let peak = Math.abs(x[c]);
        for (let p = 1; p < factor; p++) {
          let acc = 0;
          for (let k = 0; k < T; k++) {
            const i = c - T / 2 + 1 + k;
            if (i >= 0 && i < n) acc += taps[(p - 1) * T + k] * x[i];
          }
          peak = Math.max(peak, Math.abs(acc));
        }
        raw[c] = Math.max(raw[c], peak);
      }
    }
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) for (let j = Math.max(0, i - T / 2); j <= Math.min(n - 1, i + T / 2); j++) out[i] = Math.max(out[i], raw[j]);
    return out;
  }

  it('computes the true-peak envelope exactly wherever it can exceed the floor', () => {
    const [l, r] = testMix(0.5, 0.6, 7);
    const exact = referenceEnvelope([l, r], RATE);
    const everywhere = truePeakEnvelope(l, r, RATE, 0);
    for (let i = 0; i < l.length; i++) expect(everywhere[i]).toBeCloseTo(exact[i], 6);
    const floor = 0.3;
    const skipping = truePeakEnvelope(l, r, RATE, floor);
    let above = 0;
    for (let i = 0; i < l.length; i++) {
      if (exact[i] > floor) {
        above++;
        expect(skipping[i]).toBeCloseTo(exact[i], 6);
      }
    }
    expect(above).toBeGreaterThan(1000);
    expect(above).toBeLessThan(l.length);
  });

  it('takes sliding maxima over any window, edges included', () => {
    const dense = Float32Array.from({ length: 500 }, (_, i) => Math.abs(Math.sin(i * 0.37) * Math.cos(i * 0.011)));
    // Mostly zero, as an envelope is where it was skipped: bursts at both edges and in between.
    const sparse = new Float32Array(3000);
    for (const [at, len] of [[0, 3], [700, 40], [760, 1], [1800, 300], [2990, 10]]) for (let i = at; i < at + len; i++) sparse[i] = 0.1 + ((i * 37) % 11) / 10;
    for (const x of [dense, sparse]) {
      for (const [before, after] of [[0, 0], [16, 16], [0, 66], [3, 40], [600, 2]]) {
        const got = slidingMax(x, before, after);
        let mismatches = 0;
        for (let i = 0; i < x.length; i++) {
          let m = 0;
          for (let j = Math.max(0, i - before); j <= Math.min(x.length - 1, i + after); j++) m = Math.max(m, x[j]);
          if (got[i] !== m) mismatches++;
        }
        expect(mismatches).toBe(0);
      }
    }
  });

  it('limits exactly like the plain lookahead limiter (sliding minimum of the required gain, released, box-smoothed)', () => {
    const [l, r] = testMix(1, 0.5, 3);
    const env = truePeakEnvelope(l, r, RATE, 0);
    const gain = 2.2;
    const ceiling = 0.8;
    const got = limitWithEnvelope(l, r, env, gain, ceiling, RATE);
    // The straightforward form: required gain per sample, its minimum over [i, i + lookahead], release, box filter.
    const n = l.length;
    const la = Math.max(1, Math.round(0.0015 * RATE));
    const aR = onePoleCoefficient(60, RATE);
    const required = new Float32Array(n);
    for (let i = 0; i < n; i++) required[i] = gain * env[i] > ceiling ? ceiling / (gain * env[i]) : 1;
    let released = 1;
    const box = new Float64Array(la).fill(1);
    let boxSum = la;
    let limited = 0;
    let mismatches = 0;
    for (let i = 0; i < n; i++) {
      let target = 1;
      for (let j = i; j <= Math.min(n - 1, i + la); j++) target = Math.min(target, required[j]);
      released = target < released ? target : target + aR * (released - target);
      boxSum += released - box[i % la];
      box[i % la] = released;
      const g = gain * Math.min(boxSum / la, required[i]);
      if (g < gain) limited++;
      if (got.left[i] !== Math.fround(l[i] * g) || got.right[i] !== Math.fround(r[i] * g)) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(limited).toBeGreaterThan(n / 20);
  });

  it('masters the same with the input measured separately, as the render workers do', () => {
    const [l, r] = testMix(6, 0.4, 5);
    l[10] = NaN; // the warnings keep their order
    const s = defaultMasteringSettings('streaming');
    const whole = masterMix(l, r, RATE, s, { extraHeadroomDb: 0.3 });
    const analysis = analyseForMastering(l, r, RATE, s, { measureInput: false });
    expect(analysis.input).toBeNull();
    const split = withInput(masterAnalysed(analysis, RATE, s, { extraHeadroomDb: 0.3 }), measureLoudness([l, r], RATE));
    expect(Array.from(split.left)).toEqual(Array.from(whole.left));
    expect(Array.from(split.right)).toEqual(Array.from(whole.right));
    expect(split.report).toEqual(whole.report);
    expect(toneMix(l, r, RATE, s).nonFinite).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { defaultMasteringSettings, masterMix, type MasteringPresetId } from '../../src/dsp/mastering';
import { integratedLoudness } from '../../src/dsp/loudness';
import { truePeakDb } from '../../src/dsp/true-peak';

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

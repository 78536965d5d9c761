import { describe, expect, it } from 'vitest';
import { resample } from '../../src/dsp/resample';

function sine(freq: number, rate: number, seconds: number): Float32Array {
  const out = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = Math.sin((2 * Math.PI * freq * i) / rate);
  return out;
}

/** Largest error against the ideal sine, away from the edges where the kernel sees zeros. */
function maxErrorAgainstSine(x: Float32Array, freq: number, rate: number): number {
  let worst = 0;
  for (let i = 200; i < x.length - 200; i++) worst = Math.max(worst, Math.abs(x[i] - Math.sin((2 * Math.PI * freq * i) / rate)));
  return worst;
}

function rms(x: Float32Array, from = 200, to = x.length - 200): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / (to - from));
}

describe('resample', () => {
  it('returns the same arrays when the rates match', () => {
    const c = [sine(440, 44100, 0.1)];
    expect(resample(c, 44100, 44100)[0]).toBe(c[0]);
  });

  it.each([
    [48000, 44100],
    [96000, 44100],
    [22050, 44100],
    [44100, 48000],
    [44099, 44100],
  ])('converts %i → %i keeping a 1 kHz tone within -70 dB and the length exact', (from, to) => {
    const [out] = resample([sine(1000, from, 1)], from, to);
    expect(out.length).toBe(to);
    expect(maxErrorAgainstSine(out, 1000, to)).toBeLessThan(3.2e-4);
  });

  it('passes 18 kHz at 48 → 44.1 kHz nearly untouched', () => {
    const [out] = resample([sine(18000, 48000, 0.5)], 48000, 44100);
    expect(20 * Math.log10(rms(out) / Math.SQRT1_2)).toBeGreaterThan(-0.1);
  });

  it('removes content above the new Nyquist frequency instead of aliasing it', () => {
    // 30 kHz at 96 kHz would fold to 14.1 kHz at 44.1 kHz.
    const [out] = resample([sine(30000, 96000, 0.5)], 96000, 44100);
    expect(20 * Math.log10(rms(out) / Math.SQRT1_2)).toBeLessThan(-70);
  });

  it('converts every channel alike', () => {
    const left = sine(500, 48000, 0.2);
    const [a, b] = resample([left, left.slice()], 48000, 44100);
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

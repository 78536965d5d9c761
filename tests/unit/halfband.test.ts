// The half-band decimator: its unrolled interior and its edge path give the same filter at every length.
import { describe, expect, it } from 'vitest';
import { decimateByTwo } from '../../src/dsp/halfband';

/** The filter's taps at distances 0…31 from an output's centre, read from the response to an impulse. */
function impulseTaps(): Float64Array {
  const x = new Float32Array(256);
  const taps = new Float64Array(32);
  for (let d = 0; d < 32; d++) {
    x.fill(0);
    x[128 + d] = 1;
    taps[d] = decimateByTwo(x)[64];
  }
  return taps;
}

function direct(x: Float32Array, taps: Float64Array): Float32Array {
  const out = new Float32Array((x.length + 1) >> 1);
  for (let i = 0; i < out.length; i++) {
    let acc = 0;
    for (let d = -31; d <= 31; d++) {
      const j = 2 * i + d;
      if (j >= 0 && j < x.length) acc += taps[Math.abs(d)] * x[j];
    }
    out[i] = acc;
  }
  return out;
}

describe('decimateByTwo', () => {
  const taps = impulseTaps();

  it('is a half-band low-pass: symmetric, unity at DC, zero taps at even distances', () => {
    let dc = taps[0];
    for (let d = 1; d < 32; d++) dc += 2 * taps[d];
    expect(dc).toBeCloseTo(1, 6);
    expect(taps[0]).toBeCloseTo(0.5, 2);
    for (let d = 2; d < 32; d += 2) expect(taps[d]).toBe(0);
    // Nothing reaches past 15 samples.
    for (let d = 17; d < 32; d++) expect(taps[d]).toBe(0);
    const x = new Float32Array(257);
    x[128 - 7] = 1;
    expect(decimateByTwo(x)[64]).toBeCloseTo(taps[7], 7);
  });

  it('filters the edges and the interior alike at every length, reading zeros outside', () => {
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    for (const n of [0, 1, 2, 3, 15, 16, 17, 29, 30, 31, 32, 33, 34, 35, 47, 48, 63, 64, 65, 1001]) {
      const x = Float32Array.from({ length: n }, rand);
      const got = decimateByTwo(x);
      const want = direct(x, taps);
      expect(got.length).toBe(Math.ceil(n / 2));
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-6);
    }
  });

  it('passes a 1 kHz tone at 16 kHz and rejects 6 kHz', () => {
    const tone = (hz: number) => Float32Array.from({ length: 16000 }, (_, i) => Math.sin((2 * Math.PI * hz * i) / 16000));
    const rms = (y: Float32Array) => Math.sqrt(y.subarray(100, -100).reduce((s, v) => s + v * v, 0) / (y.length - 200));
    expect(rms(decimateByTwo(tone(1000)))).toBeCloseTo(Math.SQRT1_2, 2);
    expect(20 * Math.log10(rms(decimateByTwo(tone(6000))) / Math.SQRT1_2)).toBeLessThan(-50);
  });
});

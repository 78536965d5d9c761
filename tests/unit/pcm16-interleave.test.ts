// interleavePcm16: the 16-bit PCM an MP3 export is encoded from.
import { describe, expect, it } from 'vitest';
import { interleavePcm16 } from '../../src/dsp/pcm16';

describe('interleavePcm16', () => {
  it('interleaves a frame range, rounding to the nearest 16-bit step', () => {
    const left = Float32Array.from([0, 0.5, -0.5, 1 / 32768, 0.4 / 32768, 0.6 / 32768]);
    const right = Float32Array.from([0.25, -0.25, 0.125, -1 / 32768, -0.4 / 32768, -0.6 / 32768]);
    const { samples, channelCount } = interleavePcm16([left, right], 1, 6);
    expect(channelCount).toBe(2);
    expect(Array.from(samples)).toEqual([16384, -8192, -16384, 4096, 1, -1, 0, 0, 1, -1]);
  });

  it('clamps overs to the 16-bit range and turns NaN into silence', () => {
    const { samples } = interleavePcm16([Float32Array.from([1, 1.5, -1, -2, NaN, Infinity, -Infinity])]);
    expect(Array.from(samples)).toEqual([32767, 32767, -32768, -32768, 0, 32767, -32768]);
  });

  it('is the whole signal by default and empty for an empty range', () => {
    const x = Float32Array.from([0.1, 0.2, 0.3]);
    expect(interleavePcm16([x]).samples).toHaveLength(3);
    expect(interleavePcm16([x, x], 2, 2).samples).toHaveLength(0);
  });

  it('equals Math.round(x · 32768), clamped, for every float32 near each step and across the range', () => {
    const reference = (x: number) => {
      const s = Math.round(x * 32768);
      return Number.isNaN(s) ? 0 : Math.max(-32768, Math.min(32767, s));
    };
    const xs: number[] = [];
    for (let k = -32770; k <= 32770; k += 7) {
      // Each step, the half-way points between steps, and the float32 neighbours of both.
      for (const base of [k / 32768, (k + 0.5) / 32768]) {
        const f = new Float32Array([base]);
        const bits = new Int32Array(f.buffer);
        for (const d of [-1, 0, 1]) {
          const g = new Int32Array([bits[0] + d]);
          xs.push(new Float32Array(g.buffer)[0]);
        }
      }
    }
    let seed = 3;
    for (let i = 0; i < 100_000; i++) xs.push(((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2.4 - 1.2);
    xs.push(-0, 1e30, -1e30, 1e-30, -1e-30, NaN, Infinity, -Infinity);
    const input = Float32Array.from(xs);
    const { samples } = interleavePcm16([input]);
    const expected = Array.from(Int16Array.from(input, reference));
    expect(Array.from(samples)).toEqual(expected);
  });
});

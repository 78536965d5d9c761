import { describe, expect, it } from 'vitest';
import { panGains } from '../../src/dsp/pan';

const db = (g: number) => 20 * Math.log10(g);

describe('constant-power pan', () => {
  it('puts a centred mono source at -3.01 dB on each side', () => {
    const g = panGains(0, 1);
    expect(db(g.left)).toBeCloseTo(-3.0103, 3);
    expect(db(g.right)).toBeCloseTo(-3.0103, 3);
  });

  it('hard left and hard right silence the other side', () => {
    expect(panGains(-1, 1)).toEqual({ left: 1, right: 0 });
    expect(panGains(1, 1)).toEqual({ left: 0, right: 1 });
    expect(panGains(-1, 2)).toEqual({ left: 1, right: 0 });
    expect(panGains(1, 2)).toEqual({ left: 0, right: 1 });
  });

  it('keeps the power of a mono source constant across positions', () => {
    for (let p = -1; p <= 1.0001; p += 0.05) {
      const g = panGains(p, 1);
      expect(g.left * g.left + g.right * g.right).toBeCloseTo(1, 12);
    }
    // Moving right never raises the left gain.
    expect(panGains(0.3, 1).left).toBeLessThan(panGains(0.2, 1).left);
    expect(panGains(0.3, 1).right).toBeGreaterThan(panGains(0.2, 1).right);
  });

  it('balances a stereo source at unity in the centre and only attenuates the far side', () => {
    expect(panGains(0, 2).left).toBeCloseTo(1, 12);
    expect(panGains(0, 2).right).toBeCloseTo(1, 12);
    const right = panGains(0.5, 2);
    expect(right.right).toBe(1);
    expect(right.left).toBeCloseTo(Math.SQRT2 * Math.cos((1.5 * Math.PI) / 4), 12);
    const left = panGains(-0.5, 2);
    expect(left.left).toBe(1);
    expect(left.right).toBeLessThan(1);
  });

  it('clamps out-of-range and non-finite positions', () => {
    expect(panGains(3, 1)).toEqual(panGains(1, 1));
    expect(panGains(Number.NaN, 1)).toEqual(panGains(0, 1));
  });
});

import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDspKernels, useDspKernels } from '../../src/dsp/kernels';
import { measureLoudness } from '../../src/dsp/loudness';
import { truePeak } from '../../src/dsp/true-peak';
import { masterMix, truePeakEnvelope, limitWithEnvelope } from '../../src/dsp/mastering';
import { defaultMasteringSettings } from '../../src/shared/mastering';

const wasm = () => readFileSync(new URL('../../src/dsp/kernels.wasm', import.meta.url));

/** A dense, limited-sounding test mix: tones near Nyquist, a bass line, bursts and noise (seeded). */
function testMix(seconds: number, rate = 44100): [Float32Array, Float32Array] {
  const n = Math.round(seconds * rate);
  const l = new Float32Array(n);
  const r = new Float32Array(n);
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const burst = Math.floor(t * 4) % 3 === 0 ? 0.6 : 0.15;
    l[i] = 0.3 * Math.sin(2 * Math.PI * 55 * t) + burst * Math.sin(2 * Math.PI * 19000 * t) + 0.1 * rand();
    r[i] = 0.3 * Math.sin(2 * Math.PI * 82.5 * t + 1) + burst * Math.sin(2 * Math.PI * 11025.3 * t) + 0.1 * rand();
  }
  // A stretch of digital silence, where the filters' state decays into denormals.
  l.fill(0, Math.round(n * 0.4), Math.round(n * 0.55));
  r.fill(0, Math.round(n * 0.4), Math.round(n * 0.55));
  return [l, r];
}

/** Index of the first sample where a and b differ (-1: none): toEqual on millions of samples is slow. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

const absMax = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

afterEach(() => useDspKernels(null));

describe('the loudness, true-peak and limiter loops on the kernels', () => {
  it('measure what the TypeScript loops measure: loudness exactly, true peak to 1e-6, stereo and mono', async () => {
    const [l, r] = testMix(12);
    const plainStereo = measureLoudness([l, r], 44100);
    const plainMono = measureLoudness([l], 44100);
    useDspKernels(await loadDspKernels(wasm()));
    const fastStereo = measureLoudness([l, r], 44100);
    const fastMono = measureLoudness([l], 44100);
    expect({ ...fastStereo, truePeakDb: 0 }).toEqual({ ...plainStereo, truePeakDb: 0 });
    expect({ ...fastMono, truePeakDb: 0 }).toEqual({ ...plainMono, truePeakDb: 0 });
    expect(Math.abs(fastStereo.truePeakDb - plainStereo.truePeakDb)).toBeLessThan(1e-4);
    expect(Math.abs(fastMono.truePeakDb - plainMono.truePeakDb)).toBeLessThan(1e-4);
    expect(Number.isFinite(fastStereo.truePeakDb)).toBe(true);
    // Not vacuous: near-Nyquist tones read well above their samples.
    expect(fastStereo.truePeakDb).toBeGreaterThan(fastStereo.samplePeakDb + 0.1);
  });

  it('find the true peak and envelope to 1e-6, and limit to the same samples', async () => {
    const [l, r] = testMix(6);
    const peak = truePeak([l, r], 44100);
    const env = truePeakEnvelope(l, r, 44100, 0.2);
    useDspKernels(await loadDspKernels(wasm()));
    expect(truePeak([l, r], 44100) / peak - 1).toBeCloseTo(0, 6);
    const fastEnv = truePeakEnvelope(l, r, 44100, 0.2);
    let worst = 0;
    for (let i = 0; i < env.length; i++) worst = Math.max(worst, Math.abs(fastEnv[i] - env[i]));
    expect(worst).toBeLessThan(2e-6);
    // The sliding maxima of the limiter's lookahead are the same on either path.
    const { slidingMax } = await import('../../src/dsp/mastering');
    const fastMax = slidingMax(fastEnv, 16, 70);
    useDspKernels(null);
    expect(firstDifference(fastMax, slidingMax(fastEnv, 16, 70))).toBe(-1);
    expect(absMax(fastMax)).toBeGreaterThan(0.5);
    // The limiter itself computes the same samples from the same envelope on either path.
    const limited = (useDspKernels(null), limitWithEnvelope(l, r, fastEnv, 1.8, 0.89, 44100));
    useDspKernels(await loadDspKernels(wasm()));
    const fastLimited = limitWithEnvelope(l, r, fastEnv, 1.8, 0.89, 44100);
    expect(firstDifference(fastLimited.left, limited.left)).toBe(-1);
    expect(firstDifference(fastLimited.right, limited.right)).toBe(-1);
    // The limiter acted: the gain of 1.8 would otherwise push peaks far over 0.89.
    expect(absMax(l) * 1.8).toBeGreaterThan(1);
    expect(absMax(fastLimited.left)).toBeLessThan(0.9);
  });

  it('master a mix to the same loudness and peaks', async () => {
    const [l, r] = testMix(8);
    const s = defaultMasteringSettings('streaming');
    const plain = masterMix(l, r, 44100, s);
    useDspKernels(await loadDspKernels(wasm()));
    const fast = masterMix(l, r, 44100, s);
    expect(fast.report.output.integratedLufs).toBeCloseTo(plain.report.output.integratedLufs, 3);
    expect(fast.report.output.truePeakDb).toBeCloseTo(plain.report.output.truePeakDb, 3);
    expect(fast.report.gainDb).toBeCloseTo(plain.report.gainDb, 3);
    expect(fast.report.output.truePeakDb).toBeLessThanOrEqual(s.ceilingDbtp);
    let worst = 0;
    for (let i = 0; i < l.length; i++) worst = Math.max(worst, Math.abs(fast.left[i] - plain.left[i]), Math.abs(fast.right[i] - plain.right[i]));
    expect(worst).toBeLessThan(1e-4);
  });
});

describe('the master bus limiter on the kernels', () => {
  it('renders the same samples as the TypeScript limiter, across resets and setting changes', async () => {
    const { MixEngine, renderOffline } = await import('../../src/dsp/mix-engine');
    const { defaultMasterSettings, defaultTrackSettings } = await import('../../src/shared/mix');
    const [l, r] = testMix(5);
    const mix = { tracks: { t: defaultTrackSettings() }, master: { ...defaultMasterSettings(), gainDb: 8 } };
    const render = () => {
      const e = new MixEngine(44100);
      e.setTracks([{ id: 't', channels: [l, r] }]);
      e.setMix(mix);
      const first = renderOffline(e, 0, l.length);
      mix.master.limiter = { ...mix.master.limiter, ceilingDb: -3, releaseMs: 40 };
      e.setMix(mix);
      const second = renderOffline(e, 1000, l.length);
      mix.master.limiter = { ...defaultMasterSettings().limiter };
      return [first, second];
    };
    const plain = render();
    useDspKernels(await loadDspKernels(wasm()));
    const fast = render();
    for (const k of [0, 1]) {
      expect(firstDifference(fast[k].left, plain[k].left)).toBe(-1);
      expect(firstDifference(fast[k].right, plain[k].right)).toBe(-1);
    }
    // The master pass of a split render takes the limiter-only block path on the kernels: same samples again.
    const { renderMasterOffline } = await import('../../src/dsp/mix-engine');
    const masterOnly = () => {
      const e = new MixEngine(44100);
      e.setMix({ tracks: {}, master: defaultMasterSettings() });
      return renderMasterOffline(e, l.map((v) => v * 2.5), r.map((v) => v * 2.5));
    };
    // The same bus given as two partial sums (the second added as it is read) is the same sum, so the same samples.
    const split = (x: Float32Array) => {
      const a = x.map((v, i) => v * (i % 3 === 0 ? 1 : 1.5));
      const b = x.map((v, i) => v * 2.5 - a[i]);
      return { a, b, sum: a.map((v, i) => v + b[i]) };
    };
    const [sl, sr] = [split(l), split(r)];
    const masterOfParts = () => {
      const e = new MixEngine(44100);
      e.setMix({ tracks: {}, master: defaultMasterSettings() });
      return renderMasterOffline(e, sl.a.slice(), sr.a.slice(), {}, { left: sl.b, right: sr.b });
    };
    const summedFirst = () => {
      const e = new MixEngine(44100);
      e.setMix({ tracks: {}, master: defaultMasterSettings() });
      return renderMasterOffline(e, sl.sum.slice(), sr.sum.slice());
    };
    const fastMaster = masterOnly();
    const fastParts = masterOfParts();
    const fastSummed = summedFirst();
    useDspKernels(null);
    const plainMaster = masterOnly();
    const plainParts = masterOfParts();
    expect(firstDifference(fastMaster.left, plainMaster.left)).toBe(-1);
    expect(firstDifference(fastMaster.right, plainMaster.right)).toBe(-1);
    for (const parts of [fastParts, plainParts]) {
      expect(firstDifference(parts.left, fastSummed.left)).toBe(-1);
      expect(firstDifference(parts.right, fastSummed.right)).toBe(-1);
    }
    expect(fastMaster.left.length).toBe(l.length);
    expect(absMax(fastMaster.left)).toBeGreaterThan(0.8);
    // The limiter worked: +8 dB on a mix peaking near 1 stays under the −1 and −3 dB ceilings.
    expect(absMax(fast[0].left)).toBeLessThanOrEqual(Math.fround(10 ** (-1 / 20)));
    expect(absMax(fast[1].left)).toBeLessThanOrEqual(Math.fround(10 ** (-3 / 20)));
  });
});

describe('the track sum on the kernels', () => {
  it('sums tracks that only scale to the same samples as the engine, and leaves other mixes to it', async () => {
    const { MixEngine, renderTracksOffline } = await import('../../src/dsp/mix-engine');
    const { defaultTrackSettings } = await import('../../src/shared/mix');
    const [l, r] = testMix(3);
    const tracks = [
      { id: 'stereo', channels: [l, r] },
      { id: 'mono', channels: [r.subarray(0, 50_000)] },
      { id: 'short', channels: [l.subarray(0, 70_001), r.subarray(0, 70_001)] },
      { id: 'muted', channels: [r, l] },
    ];
    const mix = {
      tracks: {
        stereo: { ...defaultTrackSettings(), gainDb: -3.3, pan: 0.3 },
        mono: { ...defaultTrackSettings(), gainDb: 2, pan: -0.7 },
        short: { ...defaultTrackSettings(), gainDb: 0.7 },
        muted: { ...defaultTrackSettings(), mute: true },
      },
      master: (await import('../../src/shared/mix')).defaultMasterSettings(),
    };
    const render = (from: number) => {
      const e = new MixEngine(44100);
      e.setTracks(tracks);
      e.setMix(mix);
      return renderTracksOffline(e, from, l.length);
    };
    const plain = [render(0), render(-300), render(4321)];
    useDspKernels(await loadDspKernels(wasm()));
    const fast = [render(0), render(-300), render(4321)];
    for (let k = 0; k < 3; k++) {
      expect(firstDifference(fast[k].left, plain[k].left)).toBe(-1);
      expect(firstDifference(fast[k].right, plain[k].right)).toBe(-1);
    }
    expect(absMax(fast[0].left)).toBeGreaterThan(0.1);
    // With an EQ band on one strip the engine renders; the result is still the same.
    mix.tracks.short.eq[1] = { ...mix.tracks.short.eq[1], gainDb: 4 };
    const withEq = render(0);
    useDspKernels(null);
    expect(firstDifference(withEq.left, render(0).left)).toBe(-1);
    expect(firstDifference(withEq.left, plain[0].left)).toBeGreaterThanOrEqual(0);
  });
});

describe('16-bit tracks in an offline render', () => {
  it('sum and render as their floats (k / 32768), on the kernels and off, plain strips and an EQ', async () => {
    const { MixEngine, renderOffline, renderTracksOffline } = await import('../../src/dsp/mix-engine');
    const { defaultMasterSettings, defaultTrackSettings } = await import('../../src/shared/mix');
    const [l, r] = testMix(3);
    const ints = (x: Float32Array) => Int16Array.from(x, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32768))));
    const asFloats = (x: Int16Array) => Float32Array.from(x, (k) => k / 32768);
    const [li, ri] = [ints(l), ints(r)];
    const tracks16 = [
      { id: 'stereo', channels: [li, ri] },
      { id: 'mono', channels: [ri.subarray(0, 50_000)] },
      { id: 'short', channels: [li.subarray(0, 70_001), ri.subarray(0, 70_001)] },
    ];
    const tracks32 = tracks16.map((t) => ({ id: t.id, channels: t.channels.map(asFloats) }));
    const mix = {
      tracks: {
        stereo: { ...defaultTrackSettings(), gainDb: -3.3, pan: 0.3 },
        mono: { ...defaultTrackSettings(), gainDb: 2, pan: -0.7 },
        short: { ...defaultTrackSettings(), gainDb: 0.7 },
      },
      master: { ...defaultMasterSettings(), gainDb: 6 },
    };
    const render = (tracks: { id: string; channels: Float32Array[] | Int16Array[] }[]) => {
      const e = new MixEngine(44100);
      e.setTracks(tracks);
      e.setMix(mix);
      return [renderTracksOffline(e, -300, l.length), renderOffline(e, 1000, l.length)];
    };
    for (const kernels of [false, true]) {
      useDspKernels(kernels ? await loadDspKernels(wasm()) : null);
      for (const eq of [0, 4]) {
        mix.tracks.short.eq[1] = { ...mix.tracks.short.eq[1], gainDb: eq };
        const a = render(tracks16);
        const b = render(tracks32);
        for (const k of [0, 1]) {
          expect(firstDifference(a[k].left, b[k].left)).toBe(-1);
          expect(firstDifference(a[k].right, b[k].right)).toBe(-1);
        }
        expect(absMax(a[1].left)).toBeGreaterThan(0.1);
      }
    }
  });
});

describe('sanitizing on the kernels', () => {
  it('replaces NaN and infinities with 0 and counts them, as the TypeScript loop does', async () => {
    const { sanitizeSamples } = await import('../../src/dsp/peaks');
    const make = () => {
      const x = new Float32Array(200_003).map((_, i) => Math.sin(i));
      for (const [i, v] of [[0, NaN], [5, Infinity], [6, -Infinity], [70_000, NaN], [200_002, -Infinity], [131_071, NaN]] as const) x[i] = v;
      return x;
    };
    const plain = make();
    const plainCount = sanitizeSamples(plain);
    useDspKernels(await loadDspKernels(wasm()));
    const fast = make();
    expect(sanitizeSamples(fast)).toBe(plainCount);
    expect(plainCount).toBe(6);
    expect(firstDifference(fast, plain)).toBe(-1);
  });
});

describe('waveform peaks on the kernels', () => {
  it('gives the same min/max pairs as the TypeScript loop, channels of different lengths included', async () => {
    const { computePeaks } = await import('../../src/dsp/peaks');
    const [l, r] = testMix(4);
    const channels = [l, r.subarray(0, 100_001)];
    const plain = computePeaks(channels, 44100, 100);
    const odd = computePeaks([l.subarray(0, 7)], 44100, 37);
    useDspKernels(await loadDspKernels(wasm()));
    expect(firstDifference(computePeaks(channels, 44100, 100), plain)).toBe(-1);
    expect(firstDifference(computePeaks([l.subarray(0, 7)], 44100, 37), odd)).toBe(-1);
    expect(plain.length).toBe(800);
    expect(absMax(plain)).toBeGreaterThan(0.5);
  });
});

describe('the bus compressor on the kernels', () => {
  it('compresses long blocks to the same samples as the TypeScript loop, stereo and mono', async () => {
    const { Compressor } = await import('../../src/dsp/dynamics');
    const [l, r] = testMix(4);
    const settings = { enabled: true, thresholdDb: -24, ratio: 4, attackMs: 5, releaseMs: 80, kneeDb: 6, makeupDb: 2 };
    const run = (channels: Float32Array[]) => {
      const c = new Compressor(44100, settings);
      const out = channels.map((ch) => ch.slice());
      // Blocks of 4096 as toneMix uses, then an odd tail whose last sub-block is short.
      for (let start = 0; start < out[0].length; start += 4099) {
        const n = Math.min(4099, out[0].length - start);
        c.process(out.map((ch) => ch.subarray(start, start + n)), out.length, n);
      }
      return out;
    };
    const plain = [run([l, r]), run([l])];
    useDspKernels(await loadDspKernels(wasm()));
    const fast = [run([l, r]), run([l])];
    expect(firstDifference(fast[0][0], plain[0][0])).toBe(-1);
    expect(firstDifference(fast[0][1], plain[0][1])).toBe(-1);
    expect(firstDifference(fast[1][0], plain[1][0])).toBe(-1);
    // It compressed: the loud bursts come down by more than the 2 dB make-up lifts them.
    expect(absMax(fast[0][0])).toBeLessThan(absMax(l));
  });
});

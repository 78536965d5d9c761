import { describe, expect, it } from 'vitest';
import { kWeightingCoefficients, ShortTermLoudnessMeter } from '../../src/dsp/k-weighting';
import { MixEngine, RENDER_QUANTUM, renderOffline } from '../../src/dsp/mix-engine';
import { computePeaks, sanitizeSamples } from '../../src/dsp/peaks';
import { defaultMasterSettings, defaultTrackSettings } from '../../src/shared/mix';
import type { MixSettings, TrackSettings } from '../../src/shared/mix';

const SR = 48_000;

function sine(freq: number, amplitude: number, frames: number, sampleRate = SR): Float32Array {
  const out = new Float32Array(frames);
  const w = (2 * Math.PI * freq) / sampleRate;
  for (let i = 0; i < frames; i++) out[i] = amplitude * Math.sin(w * i);
  return out;
}

function noise(amplitude: number, frames: number, seed: number): Float32Array {
  const out = new Float32Array(frames);
  let s = seed >>> 0;
  for (let i = 0; i < frames; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = amplitude * ((s / 2 ** 32) * 2 - 1);
  }
  return out;
}

function mixOf(tracks: Record<string, Partial<TrackSettings>>, limiter = false): MixSettings {
  const master = defaultMasterSettings();
  master.limiter.enabled = limiter;
  const out: MixSettings = { tracks: {}, master };
  for (const [id, s] of Object.entries(tracks)) out.tracks[id] = { ...defaultTrackSettings(), ...s };
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function peakOf(x: Float32Array): number {
  let p = 0;
  for (const v of x) p = Math.max(p, Math.abs(v));
  return p;
}

describe('K-weighting (ITU-R BS.1770-4)', () => {
  it('reproduces the published 48 kHz coefficients to 1e-6 relative', () => {
    const { preFilter: p, rlbHighPass: h } = kWeightingCoefficients(48_000);
    const close = (actual: number, expected: number) =>
      expect(Math.abs(actual - expected) / Math.abs(expected)).toBeLessThan(1e-6);
    close(p.b0, 1.53512485958697);
    close(p.b1, -2.69169618940638);
    close(p.b2, 1.19839281085285);
    close(p.a1, -1.69065929318241);
    close(p.a2, 0.73248077421585);
    expect([h.b0, h.b1, h.b2]).toEqual([1, -2, 1]);
    close(h.a1, -1.99004745483398);
    close(h.a2, 0.99007225036621);
  });

  it('gives other rates their own coefficients from the same analog prototype', () => {
    const a = kWeightingCoefficients(44_100).preFilter;
    const b = kWeightingCoefficients(48_000).preFilter;
    expect(a.a1).not.toBeCloseTo(b.a1, 3);
  });

  // BS.1770-4 §2.1: a 0 dB FS 997 Hz sine in one channel (left, centre or right) reads -3.01 LKFS.
  for (const [label, channels, expected] of [
    ['one channel', 1, -3.01],
    ['both channels', 2, 0.0],
  ] as const) {
    for (const rate of [44_100, 48_000]) {
      it(`a full-scale 997 Hz sine in ${label} at ${rate} Hz reads ${expected} LUFS short-term`, () => {
        const meter = new ShortTermLoudnessMeter(rate, 2);
        const frames = rate * 4;
        const tone = sine(997, 1, frames, rate);
        const silent = new Float32Array(frames);
        const input = [tone, channels === 2 ? tone : silent];
        // Fed in odd-sized blocks so sub-block bookkeeping is exercised.
        for (let pos = 0; pos < frames; pos += 1000) meter.push(input, pos, Math.min(1000, frames - pos));
        expect(meter.loudness).toBeCloseTo(expected, 1);
        expect(Math.abs(meter.loudness - expected)).toBeLessThan(0.02);
      });
    }
  }

  it('reads -Infinity for silence and counts missing window as silence', () => {
    const meter = new ShortTermLoudnessMeter(SR, 2);
    const z = new Float32Array(SR);
    meter.push([z, z], 0, SR);
    expect(meter.loudness).toBe(-Infinity);
    // 1.5 s of tone into a 3 s window: half the energy, -3 dB below the settled reading.
    const tone = sine(997, 1, SR * 1.5);
    meter.reset();
    meter.push([tone, tone], 0, tone.length);
    expect(meter.loudness).toBeCloseTo(-3.01, 1);
  });
});

describe('MixEngine', () => {
  const FRAMES = SR / 2;
  const a = sine(440, 0.2, FRAMES);
  const b = [sine(660, 0.15, FRAMES), sine(770, 0.15, FRAMES)];

  function render(tracks: { id: string; channels: Float32Array[] }[], mix: MixSettings, start = 0, end = FRAMES) {
    const engine = new MixEngine(SR);
    engine.setTracks(tracks);
    engine.setMix(mix);
    return renderOffline(engine, start, end);
  }

  it('solo: only soloed, unmuted tracks sound; mute silences a track', () => {
    const tracks = [
      { id: 'a', channels: [a] },
      { id: 'b', channels: b },
    ];
    const onlyA = render([{ id: 'a', channels: [a] }], mixOf({ a: {} }));
    const onlyB = render([{ id: 'b', channels: b }], mixOf({ b: {} }));
    const both = render(tracks, mixOf({ a: {}, b: {} }));
    expect(peakOf(both.left)).toBeGreaterThan(peakOf(onlyA.left));

    const soloA = render(tracks, mixOf({ a: { solo: true }, b: {} }));
    expect(maxAbsDiff(soloA.left, onlyA.left)).toBe(0);
    expect(maxAbsDiff(soloA.right, onlyA.right)).toBe(0);

    const muteA = render(tracks, mixOf({ a: { mute: true }, b: {} }));
    expect(maxAbsDiff(muteA.left, onlyB.left)).toBe(0);

    // Solo on a muted track still leaves the others silenced: nothing sounds.
    const soloMuted = render(tracks, mixOf({ a: { solo: true, mute: true }, b: {} }));
    expect(peakOf(soloMuted.left)).toBe(0);
    expect(peakOf(soloMuted.right)).toBe(0);

    const soloBoth = render(tracks, mixOf({ a: { solo: true }, b: { solo: true } }));
    expect(maxAbsDiff(soloBoth.left, both.left)).toBe(0);
  });

  it('+6 dB on the fader doubles the amplitude (10^(6/20) = 1.995)', () => {
    const tracks = [{ id: 'a', channels: [a] }];
    const unity = render(tracks, mixOf({ a: {} }));
    const boosted = render(tracks, mixOf({ a: { gainDb: 6 } }));
    const ratio = 10 ** (6 / 20);
    for (let i = 1000; i < FRAMES; i += 97) {
      if (Math.abs(unity.left[i]) < 1e-3) continue;
      expect(boosted.left[i] / unity.left[i]).toBeCloseTo(ratio, 5);
    }
    expect(peakOf(boosted.left) / peakOf(unity.left)).toBeCloseTo(ratio, 4);
  });

  it('is time-aligned with the sources: a centred stereo track at 0 dB passes bit-exact through the limiter delay', () => {
    const quiet = [noise(0.3, FRAMES, 1), noise(0.3, FRAMES, 2)];
    const out = render([{ id: 'q', channels: quiet }], mixOf({ q: {} }, true), 1000, 9000);
    expect(maxAbsDiff(out.left, quiet[0].subarray(1000, 9000))).toBe(0);
    expect(maxAbsDiff(out.right, quiet[1].subarray(1000, 9000))).toBe(0);
  });

  it('pans a centred mono track to -3.01 dB per side and renders silence past its end', () => {
    const short = sine(500, 0.5, 4800);
    const out = render([{ id: 's', channels: [short] }], mixOf({ s: {} }), 0, 9600);
    expect(20 * Math.log10(peakOf(out.left.subarray(0, 4800)) / 0.5)).toBeCloseTo(-3.01, 2);
    expect(peakOf(out.left.subarray(4800))).toBe(0);
    expect(peakOf(out.right.subarray(4800))).toBe(0);
  });

  it('renderOffline equals a manual block-by-block process() loop, bit for bit', () => {
    const tracks = [
      { id: 'a', channels: [noise(0.5, FRAMES, 3)] },
      { id: 'b', channels: [noise(0.6, FRAMES, 4), noise(0.6, FRAMES, 5)] },
    ];
    const mix = mixOf(
      {
        a: { gainDb: 3, pan: -0.4, comp: { ...defaultTrackSettings().comp, enabled: true, thresholdDb: -20 } },
        b: { gainDb: 4, pan: 0.3 },
      },
      true,
    );
    mix.tracks.a.eq[1].gainDb = 5;
    mix.tracks.b.eq[0].gainDb = -4;
    mix.tracks.b.eq[3].gainDb = 6;
    mix.master.eq[2].gainDb = 2;
    mix.master.comp = { ...mix.master.comp, enabled: true, thresholdDb: -12 };
    mix.master.gainDb = 6;

    const start = 777;
    const end = 20_000;
    const offline = new MixEngine(SR);
    offline.setTracks(tracks);
    offline.setMix(mix);
    // Dirty state first: renderOffline must reset it.
    offline.process(12345, new Float32Array(128), new Float32Array(128), 128);
    const rendered = renderOffline(offline, start, end);

    const live = new MixEngine(SR);
    live.setTracks(tracks);
    live.setMix(mix);
    live.reset();
    const latency = live.latencyFrames;
    const total = end - start + latency;
    const left = new Float32Array(total);
    const right = new Float32Array(total);
    const bl = new Float32Array(RENDER_QUANTUM);
    const br = new Float32Array(RENDER_QUANTUM);
    for (let done = 0; done < total; done += RENDER_QUANTUM) {
      const n = Math.min(RENDER_QUANTUM, total - done);
      live.process(start + done, bl, br, n);
      left.set(bl.subarray(0, n), done);
      right.set(br.subarray(0, n), done);
    }
    expect(maxAbsDiff(rendered.left, left.subarray(latency))).toBe(0);
    expect(maxAbsDiff(rendered.right, right.subarray(latency))).toBe(0);
    // The limiter held the loud mix under its ceiling.
    expect(peakOf(rendered.left)).toBeLessThanOrEqual(10 ** (-1 / 20));
    expect(peakOf(rendered.left)).toBeGreaterThan(0.5);
  });

  it('plays 16-bit tracks (k / 32768, widened a block at a time) as their floats, through every strip path', () => {
    const ints = (seed: number) => Int16Array.from(noise(0.6, FRAMES, seed), (x) => Math.round(x * 32768));
    const floats = (x: Int16Array) => Float32Array.from(x, (k) => k / 32768);
    const a16 = [ints(6)];
    const b16 = [ints(7), ints(8)];
    // A shorter track: past its end it is silence either way.
    const c16 = [ints(9).subarray(0, 9_000), ints(10).subarray(0, 9_000)];
    const mix = mixOf({ a: { gainDb: 2, pan: -0.3 }, b: { gainDb: -3, comp: { ...defaultTrackSettings().comp, enabled: true, thresholdDb: -18 } }, c: { pan: 0.5 } }, true);
    mix.tracks.b.eq[2].gainDb = 4;
    const play = (tracks: { id: string; channels: Float32Array[] | Int16Array[] }[]) => {
      const e = new MixEngine(SR);
      e.setTracks(tracks);
      e.setMix(mix);
      e.reset();
      const left = new Float32Array(12_000);
      const right = new Float32Array(12_000);
      const bl = new Float32Array(RENDER_QUANTUM);
      const br = new Float32Array(RENDER_QUANTUM);
      for (let done = 0; done < left.length; done += RENDER_QUANTUM) {
        e.process(500 + done, bl, br, RENDER_QUANTUM);
        left.set(bl.subarray(0, Math.min(RENDER_QUANTUM, left.length - done)), done);
        right.set(br.subarray(0, Math.min(RENDER_QUANTUM, right.length - done)), done);
      }
      return { left, right, length: e.length, plain: e.plainTracks() };
    };
    const live = play([
      { id: 'a', channels: a16 },
      { id: 'b', channels: b16 },
      { id: 'c', channels: c16 },
    ]);
    const asFloats = play([
      { id: 'a', channels: a16.map(floats) },
      { id: 'b', channels: b16.map(floats) },
      { id: 'c', channels: c16.map(floats) },
    ]);
    expect(peakOf(live.left)).toBeGreaterThan(0.1);
    expect(maxAbsDiff(live.left, asFloats.left)).toBe(0);
    expect(maxAbsDiff(live.right, asFloats.right)).toBe(0);
    expect(live.length).toBe(FRAMES);
    // The kernels' plain sum is for float tracks: 16-bit ones take the strips' own path.
    expect(live.plain).toBeNull();
  });

  it('reports progress and throws AbortError when aborted', () => {
    const engine = new MixEngine(SR);
    engine.setTracks([{ id: 'a', channels: [a] }]);
    const fractions: number[] = [];
    renderOffline(engine, 0, FRAMES, { onProgress: (f) => fractions.push(f), progressEveryFrames: 4800 });
    expect(fractions.length).toBeGreaterThan(3);
    expect(fractions.at(-1)).toBe(1);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThan(fractions[i - 1]);

    const controller = new AbortController();
    let thrown: unknown;
    try {
      renderOffline(engine, 0, FRAMES, { signal: controller.signal, progressEveryFrames: 4800, onProgress: () => controller.abort() });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).name).toBe('AbortError');
  });

  it('meters peak and short-term loudness per track and on the master, peaks reset on read', () => {
    const engine = new MixEngine(SR);
    const tone = sine(997, 0.5, SR * 4);
    engine.setTracks([{ id: 't', channels: [tone, tone] }]);
    engine.setMix(mixOf({ t: {} }));
    engine.reset();
    const l = new Float32Array(RENDER_QUANTUM);
    const r = new Float32Array(RENDER_QUANTUM);
    for (let pos = 0; pos + RENDER_QUANTUM <= tone.length; pos += RENDER_QUANTUM) engine.process(pos, l, r, RENDER_QUANTUM);
    const m = engine.readMeters();
    expect(m.tracks.t.peakDb).toBeCloseTo(20 * Math.log10(0.5), 2);
    // -6.02 dB tone in both channels: 0 LUFS at full scale, so -6.02 LUFS here.
    expect(m.tracks.t.shortTermLufs).toBeCloseTo(-6.02, 1);
    expect(m.master.peakDb).toBeCloseTo(20 * Math.log10(0.5), 2);
    expect(m.master.shortTermLufs).toBeCloseTo(-6.02, 1);
    expect(engine.readMeters().master.peakDb).toBe(-Infinity);
  });

  it('tracks missing from the mix use default settings; length follows the longest track', () => {
    const engine = new MixEngine(SR);
    engine.setTracks([
      { id: 'a', channels: [a] },
      { id: 'long', channels: [new Float32Array(FRAMES * 2)] },
    ]);
    expect(engine.length).toBe(FRAMES * 2);
    engine.removeTrack('long');
    expect(engine.length).toBe(FRAMES);
    engine.setMix(mixOf({}));
    const out = renderOffline(engine, 0, 4800);
    expect(peakOf(out.left)).toBeCloseTo(0.2 * Math.SQRT1_2, 3);
  });
});

describe('peaks and sanitizing', () => {
  it('computes interleaved min/max pairs across channels', () => {
    const l = new Float32Array([0, 0.5, -0.25, 0.1, 0, 0, -0.9, 0.2, 0.3]);
    const r = new Float32Array([0.7, 0, 0, 0, -0.1, 0, 0, 0, 0]);
    const p = computePeaks([l, r], 4, 1);
    expect(Array.from(p)).toEqual([-0.25, 0.7, -0.9, 0.2, 0, 0.3].map(Math.fround));
    expect(computePeaks([new Float32Array(0)], 48_000, 100).length).toBe(0);
  });

  it('gives 16-bit channels the pairs of their floats (k / 32768)', () => {
    const l = Int16Array.from({ length: 10_007 }, (_, i) => ((i * 7919) % 65536) - 32768);
    const r = Int16Array.from({ length: 10_007 }, (_, i) => ((i * 104729) % 60001) - 30000);
    const floats = [l, r].map((c) => Float32Array.from(c, (k) => k / 32768));
    expect(Array.from(computePeaks([l, r], 44_100, 100))).toEqual(Array.from(computePeaks(floats, 44_100, 100)));
  });

  it('replaces NaN and infinities with silence and counts them', () => {
    const x = new Float32Array([0.5, Number.NaN, Infinity, -Infinity, -0.25]);
    expect(sanitizeSamples(x)).toBe(3);
    expect(Array.from(x)).toEqual([0.5, 0, 0, 0, -0.25]);
  });
});

describe('split render', () => {
  it('tracks rendered in two parts plus the master pass match the single render to float rounding', async () => {
    const { MixEngine, renderOffline, renderTracksOffline, renderMasterOffline } = await import('../../src/dsp/mix-engine');
    const { defaultMasterSettings, defaultTrackSettings } = await import('../../src/shared/mix');
    const rate = 44100;
    const n = rate * 2;
    const tracks = Array.from({ length: 4 }, (_, k) => {
      const ch = new Float32Array(n);
      for (let i = 0; i < n; i++) ch[i] = 0.3 * Math.sin((2 * Math.PI * (110 * (k + 1)) * i) / rate) * Math.sin((Math.PI * i) / n);
      return { id: `t${k}`, channels: [ch, ch.map((v) => v * 0.5)] };
    });
    const mix = { tracks: Object.fromEntries(tracks.map((t, k) => [t.id, { ...defaultTrackSettings(), gainDb: k * 2, pan: k / 4 - 0.4 }])), master: { ...defaultMasterSettings(), gainDb: 9 } };
    mix.tracks.t1.comp.enabled = true;
    mix.master.comp.enabled = true;
    const whole = new MixEngine(rate);
    whole.setTracks(tracks);
    whole.setMix(mix);
    const ref = renderOffline(whole, 0, n);
    const parts = [tracks.slice(0, 2), tracks.slice(2)].map((ts) => {
      const e = new MixEngine(rate);
      e.setTracks(ts);
      e.setMix(mix);
      return renderTracksOffline(e, 0, n);
    });
    const busL = parts[0].left.map((v, i) => v + parts[1].left[i]);
    const busR = parts[0].right.map((v, i) => v + parts[1].right[i]);
    const masterEngine = new MixEngine(rate);
    masterEngine.setMix(mix);
    const out = renderMasterOffline(masterEngine, busL, busR);
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(out.left[i] - ref.left[i]), Math.abs(out.right[i] - ref.right[i]));
    expect(worst).toBeLessThan(1e-5);
    expect(out.left.length).toBe(ref.left.length);
  });
});

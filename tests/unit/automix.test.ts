// The auto-mix contract (clamping, applying) and the equal-loudness baseline measured on real loudness.
import { describe, expect, it } from 'vitest';
import {
  AUTOMIX_MAX_TRACKS,
  AUTOMIX_RANGES,
  applyAutomixOutput,
  automixChanges,
  clampAutomixOutput,
  type AutomixInput,
  type AutomixOutput,
} from '../../src/shared/automix';
import type { TrackFeatures } from '../../src/shared/features';
import { defaultMasterSettings, defaultTrackSettings, type MixSettings } from '../../src/shared/mix';
import { integratedLoudness } from '../../src/dsp/loudness';
import { equalLoudness, equalLoudnessRunner } from '../../models/equal-loudness/runner';
import { MODEL_REGISTRY, modelMeta, runnerFor } from '../../models/registry';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

function features(integratedLufs: number, rand: () => number = () => 0.5): TrackFeatures {
  return {
    version: 1,
    integratedLufs,
    shortTermP10: integratedLufs - 6,
    shortTermP50: integratedLufs,
    shortTermP95: integratedLufs + 3,
    peakDb: integratedLufs + 12,
    crestDb: 12 + rand(),
    spectralCentroidHz: 500 + 3000 * rand(),
    spectralTiltDbPerOctave: -3 - 3 * rand(),
    bandEnergiesDb: Array.from({ length: 7 }, () => -20 * rand()),
    stereoWidth: rand(),
    stereoCorrelation: rand(),
    activity: rand(),
    melMeanDb: Array.from({ length: 64 }, () => -60 * rand()),
  };
}

function mixFor(ids: string[]): MixSettings {
  return { tracks: Object.fromEntries(ids.map((id) => [id, defaultTrackSettings()])), master: defaultMasterSettings() };
}

describe('clampAutomixOutput', () => {
  const wild: AutomixOutput = {
    tracks: [
      { gainDb: 40, pan: -3, eqGainsDb: [30, -30, 5, -5], comp: { thresholdDb: -90, ratio: 50 } },
      { gainDb: -100, pan: 2, eqGainsDb: [Infinity, -Infinity, 0, 0], comp: { thresholdDb: 10, ratio: 0.2 } },
      { gainDb: NaN, pan: NaN, eqGainsDb: [NaN, NaN, NaN, NaN], comp: { thresholdDb: NaN, ratio: NaN } },
      { gainDb: null, pan: 0.25, eqGainsDb: [1, 2, 3, 4], comp: null },
    ],
    master: { gainDb: NaN },
  };

  it('clamps every value to its range and keeps values inside it', () => {
    const c = clampAutomixOutput(wild);
    expect(c.tracks[0]).toEqual({ gainDb: 12, pan: -1, eqGainsDb: [12, -12, 5, -5], comp: { thresholdDb: -40, ratio: 8 } });
    expect(c.tracks[1]).toEqual({ gainDb: -24, pan: 1, eqGainsDb: [12, -12, 0, 0], comp: { thresholdDb: 0, ratio: 1 } });
    expect(c.tracks[3]).toEqual(wild.tracks[3]);
  });

  it('turns NaN into the neutral setting: unity gain, centre, flat EQ, no compression', () => {
    const c = clampAutomixOutput(wild);
    expect(c.tracks[2]).toEqual({ gainDb: 0, pan: 0, eqGainsDb: [0, 0, 0, 0], comp: { thresholdDb: 0, ratio: 1 } });
    expect(c.master.gainDb).toBe(AUTOMIX_RANGES.masterGainDb.neutral);
    expect(clampAutomixOutput({ tracks: [], master: { gainDb: 99 } }).master.gainDb).toBe(12);
  });

  it('does not modify its argument', () => {
    const copy = structuredClone(wild);
    clampAutomixOutput(wild);
    expect(wild).toEqual(copy);
  });
});

describe('applyAutomixOutput', () => {
  it('sets fader, pan, EQ gains, compressor and master gain; leaves mute, solo, frequencies and the input alone', () => {
    const ids = ['a', 'b'];
    const mix = mixFor(ids);
    mix.tracks.a.mute = true;
    mix.tracks.b.solo = true;
    mix.tracks.b.gainDb = -7;
    mix.tracks.a.eq[1].freq = 700;
    const before = structuredClone(mix);
    const next = applyAutomixOutput(mix, ids, {
      tracks: [
        { gainDb: 3, pan: -0.5, eqGainsDb: [1, -2, 3, 40], comp: { thresholdDb: -20, ratio: 4 } },
        { gainDb: null, pan: 0.3, eqGainsDb: [0, 0, 0, 0], comp: null },
      ],
      master: { gainDb: -2 },
    });
    expect(mix).toEqual(before);
    expect(next.tracks.a.gainDb).toBe(3);
    expect(next.tracks.a.pan).toBe(-0.5);
    expect(next.tracks.a.eq.map((b) => b.gainDb)).toEqual([1, -2, 3, 12]);
    expect(next.tracks.a.eq.map((b) => b.freq)).toEqual([100, 700, 3000, 8000]);
    expect(next.tracks.a.comp).toMatchObject({ enabled: true, thresholdDb: -20, ratio: 4, attackMs: before.tracks.a.comp.attackMs });
    expect(next.tracks.a.mute).toBe(true);
    // null gain and null comp: the model had no opinion, so the user's settings stay.
    expect(next.tracks.b.gainDb).toBe(-7);
    expect(next.tracks.b.comp).toEqual(before.tracks.b.comp);
    expect(next.tracks.b.solo).toBe(true);
    expect(next.master.gainDb).toBe(-2);
    expect(next.master.limiter).toEqual(before.master.limiter);

    const changes = automixChanges(before, next, ids);
    expect(changes.map((c) => [c.trackId, c.before.gainDb, c.after.gainDb])).toEqual([
      ['a', 0, 3],
      ['b', -7, -7],
    ]);
  });

  it('rejects a proposal for a different number of tracks', () => {
    expect(() => applyAutomixOutput(mixFor(['a']), ['a'], { tracks: [], master: { gainDb: 0 } })).toThrow(RangeError);
  });
});

describe('equal-loudness baseline', () => {
  it('is permutation-equivariant: permuting the tracks permutes the outputs exactly', () => {
    const rand = lcg(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = 1 + Math.floor(rand() * AUTOMIX_MAX_TRACKS);
      const input: AutomixInput = {
        tracks: Array.from({ length: n }, () => ({ features: features(rand() < 0.1 ? -Infinity : -50 + 45 * rand(), rand) })),
      };
      const perm = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [perm[i], perm[j]] = [perm[j], perm[i]];
      }
      const out = equalLoudness(input);
      const permuted = equalLoudness({ tracks: perm.map((k) => input.tracks[k]) });
      expect(permuted.tracks).toEqual(perm.map((k) => out.tracks[k]));
      expect(permuted.master).toEqual(out.master);
    }
  });

  it('brings tracks of different loudness to the median loudness within 0.1 LU, leaving silent tracks alone', async () => {
    const rate = 48000;
    const seconds = 4;
    const rand = lcg(3);
    const make = (kind: 'sine' | 'noise', freq: number, amp: number, stereo: boolean): Float32Array[] => {
      const ch = Array.from({ length: stereo ? 2 : 1 }, () => new Float32Array(rate * seconds));
      for (let i = 0; i < ch[0].length; i++) {
        const v = kind === 'sine' ? amp * Math.sin((2 * Math.PI * freq * i) / rate) : amp * (2 * rand() - 1);
        for (const c of ch) c[i] = v;
      }
      return ch;
    };
    const tracks = [make('sine', 80, 0.6, false), make('noise', 0, 0.05, true), make('sine', 2000, 0.01, true), make('noise', 0, 0.3, false), make('sine', 440, 0, false)];
    const lufs = tracks.map((t) => integratedLoudness(t, rate));
    expect(lufs[4]).toBe(-Infinity);
    const out = await equalLoudnessRunner.run({ tracks: lufs.map((l) => ({ features: features(l) })) });
    expect(out.tracks[4].gainDb).toBeNull();
    const active = lufs.slice(0, 4).sort((a, b) => a - b);
    const median = (active[1] + active[2]) / 2;
    // The spread was large enough for the test to mean something.
    expect(active[3] - active[0]).toBeGreaterThan(10);
    const after = tracks.slice(0, 4).map((t, k) => {
      const g = 10 ** (out.tracks[k].gainDb! / 20);
      return integratedLoudness(t.map((c) => c.map((v) => v * g)), rate);
    });
    for (const l of after) expect(Math.abs(l - median)).toBeLessThan(0.1);
    expect(Math.max(...after) - Math.min(...after)).toBeLessThan(0.1);
    expect(out.tracks.every((t) => t.pan === 0 && t.eqGainsDb.every((g) => g === 0) && t.comp === null)).toBe(true);
    expect(out.master.gainDb).toBe(0);
  });

  it('refuses sessions outside 1…32 tracks', () => {
    expect(() => equalLoudness({ tracks: [] })).toThrow(RangeError);
    expect(() => equalLoudness({ tracks: Array.from({ length: 33 }, () => ({ features: features(-20) })) })).toThrow(/1 to 32/);
  });
});

describe('model registry', () => {
  it('records, from npm run eval:mix, that every mixnet variant beats equal loudness on the held-out songs’ level error', () => {
    const equal = modelMeta('equal-loudness').metrics?.level_err_db as number;
    for (const v of ['fp32', 'fp16', 'int8']) expect(modelMeta(`mixnet-${v}`).metrics?.level_err_db as number, v).toBeLessThan(equal);
  });

  it('lists the baseline with every field the About box shows, and a runner for it', async () => {
    const meta = modelMeta('equal-loudness');
    expect(MODEL_REGISTRY).toContain(meta);
    expect(meta).toMatchObject({ id: 'equal-loudness', version: '1.0.0', task: 'automix', dtype: 'none', files: [], trainingData: 'none', licence: 'Project code: no third-party weights or data' });
    // npm run eval:mix recorded its scores.
    expect(meta.metrics?.level_err_db).toBeGreaterThan(0);
    expect(meta.architecture).toMatch(/^non-neural/);
    expect(meta.io.input && meta.io.output).toBeTruthy();
    expect(Number.isNaN(Date.parse(meta.created))).toBe(false);
    expect((await runnerFor('equal-loudness')).id).toBe('equal-loudness');
    await expect(runnerFor('nope')).rejects.toThrow(/no runner/);
    expect(() => modelMeta('nope', 'automix')).toThrow(/Unknown auto-mix model/);
  });
});

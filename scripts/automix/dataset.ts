// Training and validation examples for mixnet, built from the cached song features
// (.cache/lmms/features, written by `npm run data`).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSilentTrack, MIXNET_FEATURES, mixnetFeatureRow } from '../../models/mixnet/features';
import { seededRandom } from '../../src/shared/random';
import { corruptFeatures, restoringSettings, sampleCorruption, type Corruption } from './corruption';
import { FEATURES_DIR } from './paths';
import { SONG_FEATURES_VERSION, type SongFeatures, type StemFeatures } from './song-features';

export function loadSongFeatures(slug: string): SongFeatures {
  const path = join(FEATURES_DIR, `${slug}.json`);
  if (!existsSync(path)) throw new Error(`No cached features for "${slug}" (${path}): run \`npm run data\` first.`);
  const song = JSON.parse(readFileSync(path, 'utf8')) as SongFeatures;
  if (song.version !== SONG_FEATURES_VERSION) throw new Error(`${path} is feature version ${song.version}, not ${SONG_FEATURES_VERSION}: run \`npm run data\` again.`);
  // JSON has no -Infinity: a silent stem's integrated loudness comes back as null.
  for (const s of song.stems) if (s.features.integratedLufs === null) s.features.integratedLufs = -Infinity;
  return song;
}

/** One stem under one corruption: its input row (column 0 filled per session) and what restores it. */
export interface Variant {
  row: Float32Array;
  /** Integrated loudness after the corruption (LUFS). */
  lufs: number;
  corruption: Corruption;
  /** gain (before removing the session mean), pan, 4 EQ gains. */
  target: Float32Array;
}

export interface StemExamples {
  song: string;
  file: string;
  variants: Variant[];
}

export function variantOf(stem: StemFeatures, c: Corruption): Variant {
  const f = corruptFeatures(stem, c);
  const r = restoringSettings(c);
  return { row: mixnetFeatureRow(f, f.integratedLufs), lufs: f.integratedLufs, corruption: c, target: Float32Array.from([r.gainDb, r.pan, ...r.eqGainsDb]) };
}

/**
 * The active stems of a song, each with `count` seeded corruptions (the first one is no corruption
 * when `clean`). Loudness is stored relative to the song's full mix, so stems of different songs
 * can share a session with each musician's balance intact.
 */
export function songExamples(song: SongFeatures, count: number, seed: number, clean: boolean): StemExamples[] {
  const out: StemExamples[] = [];
  const reference = song.mixLufs ?? 0;
  song.stems.forEach((stem, s) => {
    if (isSilentTrack(stem.features)) return;
    const random = seededRandom(seed * 1000 + s);
    const variants: Variant[] = [];
    for (let k = 0; k < count; k++) {
      const v = variantOf(stem, clean && k === 0 ? { gainDb: 0, pan: 0, tiltDbPerOctave: 0 } : sampleCorruption(random));
      v.lufs -= reference;
      variants.push(v);
    }
    out.push({ song: song.slug, file: stem.file, variants });
  });
  return out;
}

/** One session: rows [n, F] with column 0 = loudness relative to the session mean, and targets [n, 6] with mean-free gains. */
export function assembleSession(variants: Variant[]): { x: Float32Array; y: Float32Array } {
  const n = variants.length;
  const x = new Float32Array(n * MIXNET_FEATURES);
  const y = new Float32Array(n * 6);
  const meanLufs = variants.reduce((s, v) => s + v.lufs, 0) / n;
  const meanGain = variants.reduce((s, v) => s + v.target[0], 0) / n;
  variants.forEach((v, i) => {
    x.set(v.row, i * MIXNET_FEATURES);
    x[i * MIXNET_FEATURES] = v.lufs - meanLufs;
    y.set(v.target, i * 6);
    y[i * 6] -= meanGain;
  });
  return { x, y };
}

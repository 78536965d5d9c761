// `npm run eval:mix`: every auto-mix model against the musicians' own balance.
//
// For each song, each stem is corrupted (seeded: gain ±12 dB, EQ tilt, pan, as in training)
// through the app's channel strip, analysed with the app's analysis, given to every model, and the
// model's settings are applied to the corrupted stem with the same channel strip. Then:
// - level_err_db: mean over tracks of |ΔL − mean ΔL|, ΔL = integrated loudness of the restored
//   stem − that of the musician's stem (so only relative levels count: the overall level is
//   mastering's job); tracks are those the musician's stems have above −70 LUFS;
//   level_err_db_audible: the same over the tracks within 30 LU of the song's loudest stem, so
//   that near-silent stems (which equal loudness would raise by 40 dB) do not decide the score;
// - pan_err: mean |proposed pan − the pan that undoes the corruption|;
// - mrstft: multi-resolution STFT distance of the sum of the restored stems, loudness-matched, to
//   the musician's full mix (lmms render).
// "unity-sum" leaves the corrupted stems as they are; "oracle" applies the exact inverse of the
// corruption (the floor of what settings alone can reach).
//
//   npm run eval:mix                                  validation songs and shorties/, writes models/README.md and the registry metrics
//   npm run eval:mix -- --stems DIR --mix FILE --json one song: a folder of stems plus its reference mix
//   npm run eval:mix -- --seed 7 --seconds 60         another corruption draw; only the first 60 s of each song
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { equalLoudnessRunner } from '../models/equal-loudness/runner';
import { MIXNET_VARIANTS, mixnetModelId } from '../models/mixnet/runner';
import type { AutomixOutput } from '../src/shared/automix';
import { readModelRegistry, writeModelEntries } from '../models/registry-node';
import type { TrackFeatures } from '../src/shared/features';
import { defaultTrackSettings, type TrackSettings } from '../src/shared/mix';
import { integratedLoudness } from '../src/dsp/loudness';
import { resample } from '../src/dsp/resample';
import { analyseTrack } from '../src/dsp/track-features';
import { parseWav } from '../src/dsp/wav';
import { seededRandom } from '../src/shared/random';
import { applyTrackSettings, corruptAudio, corruptFeatures, restoringSettings, sampleCorruption, type Corruption } from './automix/corruption';
import { nodeMixnetRunner } from './automix/mixnet-node';
import { multiResolutionStftDistances } from './automix/mrstft';
import { FEATURES_DIR, readSplit, REPO_ROOT, SONGS_DIR } from './automix/paths';
import type { SongFeatures } from './automix/song-features';

const SESSION_RATE = 44_100;
const EVALUATED_LUFS = -70;
/** "Audible" tracks: at most this far below the song's loudest stem (the musician's levels). */
const AUDIBLE_RANGE_LU = 30;
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const seed = Number(option('--seed') ?? 1234);
const maxSeconds = option('--seconds') ? Number(option('--seconds')) : Infinity;
const json = args.includes('--json');
const say = (line: string): void => void (json ? console.error(line) : console.log(line));

const AUDIO_EXTENSIONS = new Set(['.wav', '.wave', '.flac', '.mp3', '.ogg', '.opus', '.m4a', '.aac', '.aif', '.aiff']);

/** Planar stereo at the session rate: WAV by the app's parser, anything else by native ffmpeg. */
function readAudio(path: string): Float32Array[] {
  let channels: Float32Array[];
  let rate: number;
  const ext = extname(path).toLowerCase();
  if (ext === '.wav' || ext === '.wave') {
    try {
      ({ channels, sampleRate: rate } = parseWav(new Uint8Array(readFileSync(path))));
    } catch (e) {
      throw new Error(`${path}: ${(e as Error).message}`);
    }
  } else {
    const r = spawnSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 'f32le', '-ac', '2', '-ar', String(SESSION_RATE), '-'], { maxBuffer: 4 << 30 });
    if (r.error || r.status !== 0) throw new Error(`${path}: native ffmpeg could not decode it (${r.error?.message ?? r.stderr.toString().trim()})`);
    const interleaved = new Float32Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength / 4);
    channels = [new Float32Array(interleaved.length / 2), new Float32Array(interleaved.length / 2)];
    for (let i = 0; i < channels[0].length; i++) {
      channels[0][i] = interleaved[2 * i];
      channels[1][i] = interleaved[2 * i + 1];
    }
    rate = SESSION_RATE;
  }
  if (channels.length === 0 || channels[0].length === 0) throw new Error(`${path}: no audio`);
  if (rate !== SESSION_RATE) channels = resample(channels, rate, SESSION_RATE);
  // Stereo everywhere: mono is duplicated, extra channels are dropped (the stems here are stereo).
  const stereo = channels.length >= 2 ? channels.slice(0, 2) : [channels[0], channels[0].slice()];
  const frames = Math.min(stereo[0].length, Number.isFinite(maxSeconds) ? Math.round(maxSeconds * SESSION_RATE) : Infinity);
  return stereo.map((c) => c.subarray(0, frames));
}

interface SongInput {
  name: string;
  stems: { file: string; channels: Float32Array[] }[];
  mix: Float32Array[];
  /** Cached training features (meanPowerDb) when the song is an lmms render, for the feature-transform check. */
  cached: SongFeatures | null;
}

function loadStemFolder(name: string, dir: string, mixPath: string, cached: SongFeatures | null): SongInput {
  const files = readdirSync(dir).filter((f) => AUDIO_EXTENSIONS.has(extname(f).toLowerCase())).sort();
  if (files.length === 0) throw new Error(`${dir}: no audio files (${[...AUDIO_EXTENSIONS].join(', ')})`);
  if (files.length > 32) throw new Error(`${dir}: ${files.length} stems; the auto-mix contract takes at most 32`);
  return { name, stems: files.map((file) => ({ file, channels: readAudio(join(dir, file)) })), mix: readAudio(mixPath), cached };
}

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

type ModelId = string;
interface ModelScore {
  /** Per evaluated track: ΔL − mean ΔL (dB) and the pan error. */
  levelDeviations: number[];
  /** The same over the audible tracks only (their own mean removed). */
  audibleDeviations: number[];
  panErrors: number[];
  mrstft: number;
}

interface SongResult {
  name: string;
  tracks: number;
  scores: Record<ModelId, ModelScore>;
  fidelity: Record<string, number> | null;
}

const MODEL_IDS = ['unity-sum', 'equal-loudness', ...MIXNET_VARIANTS.map(mixnetModelId), 'oracle'];

function settingsFromOutput(out: AutomixOutput, i: number): TrackSettings {
  const t = out.tracks[i];
  const s = defaultTrackSettings();
  s.gainDb = t.gainDb ?? 0;
  s.pan = t.pan;
  s.eq.forEach((b, k) => (b.gainDb = t.eqGainsDb[k]));
  return s;
}

const mean = (a: number[]): number => (a.length ? a.reduce((s, v) => s + v, 0) / a.length : NaN);
const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? (s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

async function evaluateSong(song: SongInput): Promise<SongResult> {
  const started = performance.now();
  const random = seededRandom(seed ^ hashString(song.name));
  const corruptions: Corruption[] = song.stems.map(() => sampleCorruption(random));
  const musicianLufs = song.stems.map((s) => integratedLoudness(s.channels, SESSION_RATE));
  const evaluated = musicianLufs.flatMap((l, i) => (l > EVALUATED_LUFS ? [i] : []));
  const loudest = Math.max(...musicianLufs.filter(Number.isFinite));
  const audible = evaluated.map((i) => musicianLufs[i] >= loudest - AUDIBLE_RANGE_LU);
  const corrupted = song.stems.map((s, i) => corruptAudio(s.channels, SESSION_RATE, corruptions[i]));
  const features: TrackFeatures[] = corrupted.map((c) => analyseTrack(c, SESSION_RATE));
  const input = { tracks: features.map((f) => ({ features: f })) };

  const outputs: Record<ModelId, AutomixOutput> = {};
  const neutral = (): AutomixOutput => ({ tracks: song.stems.map(() => ({ gainDb: 0, pan: 0, eqGainsDb: [0, 0, 0, 0], comp: null })), master: { gainDb: 0 } });
  outputs['unity-sum'] = neutral();
  outputs['equal-loudness'] = await equalLoudnessRunner.run(input);
  for (const v of MIXNET_VARIANTS) outputs[mixnetModelId(v)] = await nodeMixnetRunner(v).run(input);
  outputs.oracle = {
    tracks: corruptions.map((c) => {
      const r = restoringSettings(c);
      return { gainDb: r.gainDb, pan: r.pan, eqGainsDb: r.eqGainsDb, comp: null };
    }),
    master: { gainDb: 0 },
  };

  const scores: Record<ModelId, ModelScore> = {};
  const mixes: Float32Array[][] = [];
  for (const id of MODEL_IDS) {
    const out = outputs[id];
    const frames = song.mix[0].length;
    const mix = [new Float32Array(frames), new Float32Array(frames)];
    const delta: number[] = [];
    song.stems.forEach((_, i) => {
      const restored = id === 'unity-sum' ? corrupted[i] : applyTrackSettings(corrupted[i], SESSION_RATE, settingsFromOutput(out, i));
      for (let c = 0; c < 2; c++) {
        const n = Math.min(frames, restored[c].length);
        for (let k = 0; k < n; k++) mix[c][k] += restored[c][k];
      }
      if (musicianLufs[i] > EVALUATED_LUFS) delta.push(Math.max(integratedLoudness(restored, SESSION_RATE), -120) - musicianLufs[i]);
    });
    const offset = mean(delta);
    const audibleDelta = delta.filter((_, k) => audible[k]);
    const audibleOffset = mean(audibleDelta);
    const refLufs = integratedLoudness(song.mix, SESSION_RATE);
    const mixLufs = integratedLoudness(mix, SESSION_RATE);
    const match = Number.isFinite(refLufs) && Number.isFinite(mixLufs) ? Math.pow(10, (refLufs - mixLufs) / 20) : 1;
    for (const ch of mix) for (let k = 0; k < ch.length; k++) ch[k] *= match;
    scores[id] = {
      levelDeviations: delta.map((d) => d - offset),
      audibleDeviations: audibleDelta.map((d) => d - audibleOffset),
      panErrors: evaluated.map((i) => Math.abs(out.tracks[i].pan + corruptions[i].pan)),
      mrstft: NaN,
    };
    mixes.push(mix);
  }
  multiResolutionStftDistances(song.mix, mixes).forEach((d, m) => (scores[MODEL_IDS[m]].mrstft = d));

  // How well training's feature-space corruption matches analysing the corrupted audio.
  let fidelity: Record<string, number> | null = null;
  if (song.cached && song.cached.stems.length === song.stems.length && song.cached.stems.every((s, i) => s.file === song.stems[i].file) && !Number.isFinite(maxSeconds)) {
    const d = { integratedLufs: [] as number[], tilt: [] as number[], balance: [] as number[], width: [] as number[], bandsDb: [] as number[], melDb: [] as number[], activity: [] as number[] };
    evaluated.forEach((i) => {
      const cachedStem = song.cached!.stems[i];
      cachedStem.features.integratedLufs ??= -Infinity;
      const predicted = corruptFeatures(cachedStem, corruptions[i]);
      const actual = features[i];
      // A stem silent in one analysis and not the other has no finite difference: left out.
      const lufsDiff = Math.abs(predicted.integratedLufs - actual.integratedLufs);
      if (Number.isFinite(lufsDiff)) d.integratedLufs.push(lufsDiff);
      d.tilt.push(Math.abs(predicted.spectralTiltDbPerOctave - actual.spectralTiltDbPerOctave));
      d.balance.push(Math.abs((predicted.stereoBalance ?? 0) - (actual.stereoBalance ?? 0)));
      d.width.push(Math.abs(predicted.stereoWidth - actual.stereoWidth));
      d.bandsDb.push(mean(predicted.bandEnergiesDb.map((v, b) => Math.abs(v - actual.bandEnergiesDb[b]))));
      d.melDb.push(mean(predicted.melMeanDb.map((v, m) => Math.abs(v - actual.melMeanDb[m]))));
      d.activity.push(Math.abs(predicted.activity - actual.activity));
    });
    fidelity = Object.fromEntries(Object.entries(d).map(([k, v]) => [k, mean(v)]));
  }
  say(`${song.name}: ${evaluated.length} tracks in ${((performance.now() - started) / 1000).toFixed(0)} s; level error ${MODEL_IDS.map((id) => `${id} ${mean(scores[id].levelDeviations.map(Math.abs)).toFixed(2)}`).join(', ')}`);
  return { name: song.name, tracks: evaluated.length, scores, fidelity };
}

interface Summary {
  level_err_db: number;
  level_err_db_audible: number;
  level_err_db_median: number;
  pan_err: number;
  mrstft: number;
}

function summarise(results: SongResult[], id: ModelId): Summary {
  const dev = results.flatMap((r) => r.scores[id].levelDeviations.map(Math.abs));
  return {
    level_err_db: mean(dev),
    level_err_db_audible: mean(results.flatMap((r) => r.scores[id].audibleDeviations.map(Math.abs))),
    level_err_db_median: median(dev),
    pan_err: mean(results.flatMap((r) => r.scores[id].panErrors)),
    mrstft: mean(results.map((r) => r.scores[id].mrstft)),
  };
}

const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

function table(title: string, results: SongResult[]): string {
  const eq = summarise(results, 'equal-loudness').level_err_db;
  const lines = [
    `**${title}** (${results.length} songs, ${results.reduce((s, r) => s + r.tracks, 0)} tracks: ${results.map((r) => r.name).join(', ')})`,
    '',
    '| model | level error (dB) | vs equal loudness | median (dB) | audible tracks (dB) | pan error | MRSTFT |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const id of MODEL_IDS) {
    const s = summarise(results, id);
    const vs = id === 'equal-loudness' ? '—' : `${s.level_err_db <= eq ? '−' : '+'}${Math.abs(Math.round(100 * (1 - s.level_err_db / eq)))} %`;
    lines.push(`| ${id} | ${s.level_err_db.toFixed(2)} | ${vs} | ${s.level_err_db_median.toFixed(2)} | ${s.level_err_db_audible.toFixed(2)} | ${s.pan_err.toFixed(3)} | ${s.mrstft.toFixed(3)} |`);
  }
  lines.push('', '| song | tracks | ' + MODEL_IDS.join(' | ') + ' |', '|---|---:|' + MODEL_IDS.map(() => '---:').join('|') + '|');
  for (const r of results) lines.push(`| ${r.name} | ${r.tracks} | ${MODEL_IDS.map((id) => mean(r.scores[id].levelDeviations.map(Math.abs)).toFixed(2)).join(' | ')} |`);
  return lines.join('\n');
}

function fidelityLine(results: SongResult[]): string {
  const withF = results.filter((r) => r.fidelity);
  if (!withF.length) return '';
  const keys = Object.keys(withF[0].fidelity!);
  return `Training's feature-space corruption against analysing the corrupted audio (mean absolute difference over ${withF.length} songs): ${keys.map((k) => `${k} ${mean(withF.map((r) => r.fidelity![k])).toFixed(3)}`).join(', ')}.`;
}

function loadCached(slug: string): SongFeatures | null {
  const p = join(FEATURES_DIR, `${slug}.json`);
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as SongFeatures) : null;
}

function updateRegistry(validation: SongResult[], independent: SongResult[]): void {
  const registry = readModelRegistry();
  const ids = new Set<string>(MODEL_IDS);
  // Each folder's meta.json is rewritten whole, its other entries untouched.
  for (const folder of new Set(registry.filter((m) => ids.has(m.id)).map((m) => m.folder))) {
    const entries = registry.filter((m) => m.folder === folder).map((meta) => {
      if (!ids.has(meta.id)) return meta;
      const metrics: Record<string, number> = {};
      const v = summarise(validation, meta.id as ModelId);
      for (const [k, val] of Object.entries(v)) metrics[k] = round(val, 3);
      metrics.eval_songs = validation.length;
      metrics.eval_seed = seed;
      if (independent.length) {
        const s = summarise(independent, meta.id as ModelId);
        for (const [k, val] of Object.entries(s)) metrics[`independent_${k}`] = round(val, 3);
        metrics.independent_songs = independent.length;
      }
      return { ...meta, metrics };
    });
    writeModelEntries(folder, entries);
  }
}

const README_START = '<!-- eval:mix start -->';
const README_END = '<!-- eval:mix end -->';

function updateReadme(text: string): void {
  const path = join(REPO_ROOT, 'models/README.md');
  const readme = readFileSync(path, 'utf8');
  const block = `${README_START}\n${text}\n${README_END}`;
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  const next = start >= 0 && end > start ? readme.slice(0, start) + block + readme.slice(end + README_END.length) : `${readme.trimEnd()}\n\n## Evaluation (\`npm run eval:mix\`)\n\n${block}\n`;
  writeFileSync(path + '.tmp', next);
  renameSync(path + '.tmp', path);
}

async function main(): Promise<void> {
  const stemsDir = option('--stems');
  if (stemsDir) {
    const mixPath = option('--mix');
    if (!mixPath) throw new Error('--stems needs --mix FILE, the reference mix of those stems');
    const dir = resolve(stemsDir);
    const name = basename(dir) === 'stems' ? basename(dirname(dir)) : basename(dir);
    const result = await evaluateSong(loadStemFolder(name, dir, mixPath, null));
    const out = Object.fromEntries(MODEL_IDS.map((id) => {
      const s = summarise([result], id);
      return [id, { level_err_db: round(s.level_err_db, 4), pan_err: round(s.pan_err, 4), mrstft: round(s.mrstft, 4), level_err_db_median: round(s.level_err_db_median, 4), level_err_db_audible: round(s.level_err_db_audible, 4), tracks: result.tracks }];
    }));
    if (json) console.log(JSON.stringify(out, null, 2));
    else console.log(table(result.name, [result]));
    return;
  }

  const split = readSplit();
  const started = performance.now();
  const run = async (slugs: string[]): Promise<SongResult[]> => {
    const results: SongResult[] = [];
    for (const slug of slugs) {
      const dir = join(SONGS_DIR, slug);
      if (!existsSync(join(dir, 'render.json'))) {
        say(`skip ${slug}: not rendered (npm run data)`);
        continue;
      }
      results.push(await evaluateSong(loadStemFolder(slug, join(dir, 'stems'), join(dir, 'mix.wav'), loadCached(slug))));
    }
    return results;
  };
  const validation = await run(split.validation);
  if (!validation.length) throw new Error('No validation song is rendered: run `npm run data` first.');
  const independent = await run(split.independent);
  const seconds = (performance.now() - started) / 1000;
  const text = [
    `Seed ${seed}${Number.isFinite(maxSeconds) ? `, first ${maxSeconds} s of each song` : ''}; corruption per stem: gain ±12 dB, EQ tilt ±1.5 dB/octave, pan ±0.5. Level error: mean |ΔL − mean ΔL| over tracks (integrated loudness of the restored stem against the musician's stem). Pan error: |pan − the pan that undoes the corruption|. MRSTFT: sum of the restored stems, loudness-matched, against the musician's full mix. \`oracle\` applies the exact inverse of the corruption.`,
    '',
    table('Validation: held-out demos/ songs', validation),
    '',
    independent.length ? table('Independent: shorties/ (never used for training or tuning)', independent) : 'Independent set (shorties/): not rendered.',
    '',
    fidelityLine([...validation, ...independent]),
  ].join('\n');
  console.log('\n' + text);
  if (!Number.isFinite(maxSeconds) || args.includes('--write')) {
    updateRegistry(validation, independent);
    updateReadme(text);
    say(`wrote models/README.md and the registry metrics (${seconds.toFixed(0)} s)`);
  }
}

await main();

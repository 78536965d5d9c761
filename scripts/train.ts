// `npm run train`: trains mixnet on the lmms demo songs' cached features (`npm run data` first),
// reproducibly from a seed on the CPU, and writes models/mixnet/: the ONNX graphs in fp32, fp16
// and int8, their registry entries, the trainer's outputs on fixed inputs (the export parity
// fixture) and a training report.
//
//   npm run train                       train with the defaults, export
//   npm run train -- --seed 2 --steps 4000 --hidden 64
//   npm run train -- --cv [--grid JSON]  4-fold cross-validation over the training songs only (no export)
//   npm run train -- --allow-missing    train on the songs whose features exist (a render failed or is still running)
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSilentTrack, MIXNET_FEATURE_NAMES, MIXNET_FEATURES, MIXNET_OUTPUT_NAMES, MIXNET_OUTPUTS } from '../models/mixnet/features';
import type { ModelMeta } from '../src/shared/model-meta';
import { readModelRegistry, writeModelEntries } from '../models/registry-node';
import type { TrackFeatures } from '../src/shared/features';
import { seededRandom } from '../src/shared/random';
import { CORRUPTION, corruptFeatures, sampleCorruption } from './automix/corruption';
import { assembleSession, loadSongFeatures, songExamples, type StemExamples } from './automix/dataset';
import { SONG_LICENCES } from './automix/licences';
import { mixnetForward, type MixnetWeights } from './automix/mixnet-weights';
import { exportMixnet, IR_VERSION, OPSET, roundTripWeights } from './automix/onnx-export';
import { FEATURES_DIR, readSplit, REPO_ROOT } from './automix/paths';
import { DEFAULT_CONFIG, normalisation, trainMixnet, type TrainConfig } from './automix/trainer';

const MODEL_DIR = join(REPO_ROOT, 'models/mixnet');
export const MIXNET_VERSION = '1.1.0';
/** Corruptions per training stem (the first is none) and per validation stem. */
const TRAIN_VARIANTS = 32;
const VALIDATION_VARIANTS = 8;
const VALIDATION_SEED = 7919;

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

function configFromArgs(): TrainConfig {
  const cfg = { ...DEFAULT_CONFIG };
  for (const key of Object.keys(cfg) as (keyof TrainConfig)[]) {
    const v = option(`--${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`);
    if (v !== undefined) cfg[key] = Number(v);
  }
  return cfg;
}

function log(line: string): void {
  console.log(line);
}

/** Feature-space validation: mean |gain error| (dB, session mean removed), |pan error|, |EQ error| over whole songs. */
function featureSpaceScores(w: MixnetWeights, songs: StemExamples[][]): { mixnet: number; equalLoudness: number; pan: number; eq: number } {
  let gain = 0, eqLoud = 0, pan = 0, eq = 0, n = 0;
  for (const stems of songs) {
    for (let v = 0; v < stems[0].variants.length; v++) {
      const { x, y } = assembleSession(stems.map((s) => s.variants[v]));
      const k = stems.length;
      const out = mixnetForward(w, x, k);
      for (let i = 0; i < k; i++) {
        gain += Math.abs(out[i * 6] - y[i * 6]);
        eqLoud += Math.abs(-x[i * MIXNET_FEATURES] - y[i * 6]);
        pan += Math.abs(out[i * 6 + 1] - y[i * 6 + 1]);
        for (let b = 2; b < 6; b++) eq += Math.abs(out[i * 6 + b] - y[i * 6 + b]) / 4;
        n++;
      }
    }
  }
  return { mixnet: gain / n, equalLoudness: eqLoud / n, pan: pan / n, eq: eq / n };
}

/**
 * k-fold cross-validation by song over the training songs only (the validation songs stay unseen),
 * for each configuration of `--grid '[{"hidden":32}, …]'` (overrides of the command line's).
 */
async function crossValidate(trainSongs: string[], base: TrainConfig): Promise<void> {
  const folds = 4;
  const grid = JSON.parse(option('--grid') ?? '[{}]') as Partial<TrainConfig>[];
  const all = trainSongs.map((slug) => ({ slug, song: loadSongFeatures(slug) }));
  for (const overrides of grid) {
    const cfg = { ...base, ...overrides };
    let sumM = 0, sumE = 0, sumP = 0, sumQ = 0, n = 0;
    const started = performance.now();
    for (let f = 0; f < folds; f++) {
      const held = all.filter((_, i) => i % folds === f);
      const kept = all.filter((_, i) => i % folds !== f);
      const train = kept.map(({ song }, i) => songExamples(song, TRAIN_VARIANTS, cfg.seed * 100 + i, true)).filter((s) => s.length);
      const val = held.map(({ song }, i) => songExamples(song, VALIDATION_VARIANTS, VALIDATION_SEED + i, false)).filter((s) => s.length);
      const norm = normalisation(train, cfg.readLevel > 0);
      const { weights } = trainMixnet(train, norm, cfg);
      const s = featureSpaceScores(weights, val);
      if (grid.length <= 2) log(`  fold ${f + 1}: gain error ${s.mixnet.toFixed(2)} dB vs equal loudness ${s.equalLoudness.toFixed(2)} dB, keep ${weights.levelKeep?.toFixed(3)}`);
      // Weighted by stems, so every held-out track counts once.
      const stems = val.flat().length;
      sumM += s.mixnet * stems;
      sumE += s.equalLoudness * stems;
      sumP += s.pan * stems;
      sumQ += s.eq * stems;
      n += stems;
      if (grid.length === 1) log(`fold ${f + 1}/${folds} (held out ${held.map((h) => h.slug).join(', ')}): gain error ${s.mixnet.toFixed(2)} dB vs equal loudness ${s.equalLoudness.toFixed(2)} dB; pan ${s.pan.toFixed(3)}, EQ ${s.eq.toFixed(2)} dB`);
    }
    log(`cv ${JSON.stringify(overrides)}: gain error ${(sumM / n).toFixed(2)} dB vs equal loudness ${(sumE / n).toFixed(2)} dB (${(100 * (1 - sumM / sumE)).toFixed(0)} % lower); pan ${(sumP / n).toFixed(3)}, EQ ${(sumQ / n).toFixed(2)} dB (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function writeAtomic(path: string, data: string | Uint8Array): void {
  writeFileSync(path + '.tmp', data);
  renameSync(path + '.tmp', path);
}

interface FixtureSession {
  name: string;
  /** Model input rows [n, F] and the trainer's outputs [n, 6] (its float64 forward pass of the float32 weights). */
  x: number[];
  n: number;
  trainer: number[];
}

async function main(): Promise<void> {
  const cfg = configFromArgs();
  const split = readSplit();
  const available = (slugs: string[]) => (args.includes('--allow-missing') ? slugs.filter((s) => existsSync(join(FEATURES_DIR, `${s}.json`))) : slugs);
  if (args.includes('--cv')) return crossValidate(available(split.train), cfg);

  const started = performance.now();
  const trainSongs = available(split.train).map(loadSongFeatures);
  const validationSongs = available(split.validation).map(loadSongFeatures);
  if (trainSongs.length < split.train.length || validationSongs.length < split.validation.length) {
    log(`warning: only ${trainSongs.length}/${split.train.length} training and ${validationSongs.length}/${split.validation.length} validation songs have features`);
  }
  if (!trainSongs.length || !validationSongs.length) throw new Error('Need at least one training and one validation song with features: run `npm run data`.');
  const train = trainSongs.map((song, i) => songExamples(song, TRAIN_VARIANTS, cfg.seed * 100 + i, true)).filter((s) => s.length);
  const validation = validationSongs.map((song, i) => songExamples(song, VALIDATION_VARIANTS, VALIDATION_SEED + i, false)).filter((s) => s.length);
  const stems = train.flat().length;
  log(`train: ${train.length} songs, ${stems} active stems × ${TRAIN_VARIANTS} corruptions; validation: ${validation.length} songs, ${validation.flat().length} stems`);
  const norm = normalisation(train, cfg.readLevel > 0);
  const result = trainMixnet(train, norm, cfg, log);
  const w = result.weights;
  const scores = featureSpaceScores(w, validation);
  log(`validation (features): gain error ${scores.mixnet.toFixed(2)} dB vs equal loudness ${scores.equalLoudness.toFixed(2)} dB; pan ${scores.pan.toFixed(3)}; EQ ${scores.eq.toFixed(2)} dB`);

  // Fixed inputs for the export parity test: each validation song's first corruption, a single
  // track and a three-track subset; the runner's own input for the first song.
  const sessions: FixtureSession[] = [];
  for (const stemsOfSong of validation) {
    const variants = stemsOfSong.map((s) => s.variants[0]);
    for (const [name, picked] of [[stemsOfSong[0].song, variants], [`${stemsOfSong[0].song} (first 3)`, variants.slice(0, 3)], [`${stemsOfSong[0].song} (one)`, variants.slice(0, 1)]] as const) {
      const { x } = assembleSession([...picked]);
      sessions.push({ name, x: Array.from(x), n: picked.length, trainer: Array.from(mixnetForward(w, x, picked.length)) });
    }
  }
  const runnerSong = validationSongs[0];
  const random = seededRandom(VALIDATION_SEED);
  const runnerTracks: TrackFeatures[] = runnerSong.stems.map((s) => corruptFeatures(s, sampleCorruption(random)));
  const runnerSilent = runnerTracks.filter(isSilentTrack).length;

  // Quantization tolerance on the validation sessions, against the float64 forward of the fp32 weights.
  const tolerance: Record<string, { maxGainDb: number; maxPan: number; maxEqDb: number }> = {};
  for (const dtype of ['fp16', 'int8'] as const) {
    const wq = roundTripWeights(w, dtype);
    const t = { maxGainDb: 0, maxPan: 0, maxEqDb: 0 };
    for (const s of sessions) {
      const a = mixnetForward(w, s.x, s.n);
      const b = mixnetForward(wq, s.x, s.n);
      for (let i = 0; i < a.length; i++) {
        const d = Math.abs(a[i] - b[i]);
        const col = i % MIXNET_OUTPUTS;
        if (col === 0) t.maxGainDb = Math.max(t.maxGainDb, d);
        else if (col === 1) t.maxPan = Math.max(t.maxPan, d);
        else t.maxEqDb = Math.max(t.maxEqDb, d);
      }
    }
    tolerance[dtype] = t;
    log(`${dtype} vs fp32 on the fixture sessions: gain ≤ ${t.maxGainDb.toFixed(3)} dB, pan ≤ ${t.maxPan.toFixed(4)}, EQ ≤ ${t.maxEqDb.toFixed(3)} dB`);
  }

  mkdirSync(MODEL_DIR, { recursive: true });
  const created = new Date().toISOString().slice(0, 10);
  const trainedOn = trainSongs.map((s) => s.slug);
  const trainingData = describeTrainingData(trainedOn, stems);
  const licence = describeLicence(trainedOn);
  // Evaluation metrics belong to the weights they measured: a retrain clears them until `npm run eval:mix`.
  const previous = existsSync(join(MODEL_DIR, 'meta.json')) ? readModelRegistry().filter((m) => m.folder === 'mixnet') : [];
  const entries: ModelMeta[] = [];
  const architecture = `DeepSets, permutation-equivariant: per-track MLP ${MIXNET_FEATURES}→${w.hidden}, two layers ${w.hidden}→${w.hidden} each adding the mean over the session's tracks (×V), linear head →${MIXNET_OUTPUTS}; gain = the network's correction + (keep − 1) × the track's current relative loudness, keep = ${(w.levelKeep ?? 0).toFixed(3)} (learnt), session mean removed. ${paramCount(w) + 1} parameters.`;
  for (const dtype of ['fp32', 'fp16', 'int8'] as const) {
    const file = `mixnet.${dtype}.onnx`;
    const bytes = exportMixnet(w, dtype, {
      docString: `mixnet ${MIXNET_VERSION} (${dtype}): auto-mix settings per track from TrackFeatures. Input "features" [tracks, ${MIXNET_FEATURES}] (models/mixnet/features.ts), output "settings" [tracks, ${MIXNET_OUTPUTS}]: ${MIXNET_OUTPUT_NAMES.join(', ')}.`,
      metadata: { version: MIXNET_VERSION, dtype, seed: String(cfg.seed), features: MIXNET_FEATURE_NAMES.join(','), outputs: MIXNET_OUTPUT_NAMES.join(',') },
    });
    writeAtomic(join(MODEL_DIR, file), bytes);
    const meta: ModelMeta = {
      id: `mixnet-${dtype}`,
      label: `mixnet (${dtype === 'fp32' ? 'float32' : dtype === 'fp16' ? 'float16' : 'int8'})`,
      version: MIXNET_VERSION,
      task: 'automix',
      architecture,
      io: {
        input: `"features" float32 [tracks, ${MIXNET_FEATURES}]: one row per active track (≥ −70 LUFS) built by models/mixnet/features.ts from TrackFeatures: loudness relative to the session mean (read only by the output's level term), level-free loudness statistics, peak, crest, centroid, tilt, 7 band energies, stereo side fraction, correlation, balance, activity, 16 pooled mel bands relative to loudness. Normalisation (mean/std of the training rows) is inside the graph. Opset ${OPSET}, IR ${IR_VERSION}; dynamic track axis.`,
        output: `"settings" float32 [tracks, ${MIXNET_OUTPUTS}]: ${MIXNET_OUTPUT_NAMES.join(', ')} (dB, −1…1, dB ×4). Silent tracks get a null gain from the runner; the compressor is left as it is (comp: null) and master gain 0 dB.`,
      },
      dtype: dtype === 'fp32' ? 'float32' : dtype === 'fp16' ? 'float16' : 'int8',
      files: [{ name: file, sha256: sha256(bytes), sizeBytes: bytes.length }],
      licence,
      // CC-BY-SA, Artistic-2.0 and GPL-2+ all allow commercial use (with attribution and share-alike).
      commercialUse: true,
      trainingData,
      metrics: null,
      created,
      note:
        dtype === 'fp32'
          ? 'Reference weights; the runner clamps every output to the contract ranges.'
          : dtype === 'fp16'
            ? `Weight matrices stored as float16 and Cast to float32; compute and I/O in float32. Largest difference from fp32 on the fixture sessions: ${tolerance.fp16.maxGainDb.toFixed(3)} dB gain.`
            : `Weight matrices quantized to int8 per output column (DequantizeLinear, QDQ weight-only); compute and I/O in float32. Largest difference from fp32 on the fixture sessions: ${tolerance.int8.maxGainDb.toFixed(3)} dB gain.`,
    };
    const old = previous.find((m) => m.id === meta.id);
    if (old?.files[0]?.sha256 === meta.files[0].sha256) meta.metrics = old.metrics;
    entries.push(meta);
    log(`wrote ${file}: ${bytes.length} bytes, sha256 ${meta.files[0].sha256}`);
  }
  writeModelEntries('mixnet', entries);

  const fixture = {
    note: 'Written by `npm run train`: inputs and the trainer\'s outputs (its float64 forward pass of the exported float32 weights). tests/unit/mixnet.test.ts checks the ONNX exports against them.',
    features: MIXNET_FEATURE_NAMES,
    outputs: MIXNET_OUTPUT_NAMES,
    sessions,
    runner: { song: runnerSong.slug, tracks: runnerTracks.map(jsonSafe), silent: runnerSilent },
    tolerance,
  };
  writeAtomic(join(MODEL_DIR, 'fixture.json'), JSON.stringify(fixture) + '\n');
  const seconds = (performance.now() - started) / 1000;
  const report = {
    version: MIXNET_VERSION,
    created,
    config: cfg,
    corruption: CORRUPTION,
    trainVariantsPerStem: TRAIN_VARIANTS,
    trainSongs: trainedOn,
    validationSongs: validationSongs.map((s) => s.slug),
    activeTrainStems: stems,
    trainingSeconds: Math.round(result.seconds * 10) / 10,
    totalSeconds: Math.round(seconds * 10) / 10,
    losses: result.losses,
    validationFeatureSpace: scores,
    quantization: tolerance,
  };
  writeAtomic(join(MODEL_DIR, 'training.json'), JSON.stringify(report, null, 2) + '\n');
  log(`done in ${seconds.toFixed(0)} s (training ${result.seconds.toFixed(0)} s)`);
}

/** -Infinity (a silent track's loudness) does not survive JSON; the tests map null back. */
function jsonSafe(f: TrackFeatures): TrackFeatures {
  return { ...f, integratedLufs: Number.isFinite(f.integratedLufs) ? f.integratedLufs : (null as unknown as number) };
}

function paramCount(w: MixnetWeights): number {
  return [w.W1, w.b1, w.W2, w.V2, w.b2, w.W3, w.V3, w.b3, w.W4, w.b4].reduce((s, a) => s + a.length, 0);
}

function describeTrainingData(songs: string[], stems: number): string {
  return `Self-supervised on ${songs.length} lmms-common demo songs (Debian package lmms-common 1.2.2, demos/ only; ${stems} active stems rendered with \`lmms rendertracks\`, the musicians' own faders, pans and effects): each stem's features are corrupted at random (gain ±${CORRUPTION.gainDb} dB, EQ tilt ±${CORRUPTION.tiltDbPerOctave} dB/octave on the four console bands, pan ±${CORRUPTION.pan}) and the model learns the settings that restore the musician's relative balance. Songs: ${songs.join(', ')}. Validation songs (held out): ${readSplit().validation.join(', ')}. shorties/ and tutorials/ are not used. See models/mixnet/README.md.`;
}

function describeLicence(songs: string[]): string {
  const by = new Map<string, string[]>();
  for (const s of songs) {
    const l = SONG_LICENCES[s] ?? 'unknown';
    by.set(l, [...(by.get(l) ?? []), s]);
  }
  const parts = [...by].map(([l, s]) => `${l}: ${s.join(', ')}`);
  return `Weights: project code and training by this repository. Training data (per /usr/share/doc/lmms-common/copyright): ${parts.join('; ')}. The CC-BY-SA songs ask for attribution and share-alike of adaptations; whether trained weights are an adaptation is unsettled, so treat these weights as CC-BY-SA-4.0 with the attributions in models/mixnet/README.md until that is decided.`;
}

await main();

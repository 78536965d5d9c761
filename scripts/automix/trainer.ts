// mixnet training on the CPU: forward and backward passes of this one fixed graph written out by
// hand in Float64Array, with Adam. tfjs-core 4.22 registers no gradients by itself and its
// register_all_gradients module cannot be loaded by Node's ESM resolver (directory imports), so a
// dedicated backprop (checked against finite differences in tests/unit/mixnet.test.ts) is the
// smaller dependency. Single-threaded and seeded: the same seed gives the same weights.
//
// Sessions of different sizes train together: their tracks are stacked into one [T, F] matrix and
// the "mean over the session's tracks" is a segment mean.
import { MIXNET_FEATURES, MIXNET_OUTPUTS } from '../../models/mixnet/features';
import { seededRandom } from '../../src/shared/random';
import { assembleSession, type StemExamples } from './dataset';
import { clipInput, MATRIX_NAMES, matrixShape, type MixnetWeights } from './mixnet-weights';

export interface TrainConfig {
  seed: number;
  hidden: number;
  steps: number;
  /** Sessions per step. */
  batch: number;
  learningRate: number;
  weightDecay: number;
  /** Gaussian noise added to the normalised inputs (std), a regulariser for a few hundred stems. */
  inputNoise: number;
  /** Loss weights of pan and EQ relative to gain (after scaling each by its typical size). */
  panWeight: number;
  /** Errors beyond this many typical sizes count linearly (Huber), so a few far-off tracks do not dominate. */
  huber: number;
  eqWeight: number;
  minTracks: number;
  maxTracks: number;
  /** Fraction of sessions drawn from the stems of all training songs rather than one song. */
  crossSong: number;
  /** 1: the network reads each track's current loudness relative to the session (0: only the output's level term uses it). */
  readLevel: number;
}

export const DEFAULT_CONFIG: TrainConfig = {
  seed: 1,
  // Chosen by 4-fold cross-validation over the training songs (`npm run train -- --cv --grid …`): with 15 songs a
  // 64-wide network learnt each song's own balance and did worse on held-out songs than equal loudness
  // (5.38 against 5.69 dB); this small, strongly regularised one is 26 % better (4.22 dB).
  hidden: 16,
  steps: 600,
  batch: 16,
  learningRate: 2e-3,
  weightDecay: 0.03,
  inputNoise: 0.5,
  panWeight: 0.5,
  huber: 1,
  eqWeight: 0.5,
  minTracks: 2,
  maxTracks: 32,
  crossSong: 0,
  readLevel: 1,
};

/** Typical sizes: gain errors are read against 6 dB, pan against 0.3, EQ against 3 dB. */
const GAIN_SCALE = 6;
const PAN_SCALE = 0.3;
const EQ_SCALE = 3;

export function lossScales(cfg: Pick<TrainConfig, 'panWeight' | 'eqWeight'>): Float64Array {
  return Float64Array.from([1 / GAIN_SCALE, Math.sqrt(cfg.panWeight) / PAN_SCALE, ...Array(4).fill(Math.sqrt(cfg.eqWeight / 4) / EQ_SCALE)]);
}

export interface Normalisation {
  mu: number[];
  invSd: number[];
}

/**
 * Mean and inverse standard deviation of every input column over the training rows. The level
 * column (loudness relative to the session) is read through its spread over whole songs, with
 * mean 0; with `readLevel` false the network does not read it at all (only the output's level term does).
 */
export function normalisation(bySong: StemExamples[][], readLevel: boolean): Normalisation {
  const stems = bySong.flat();
  const F = MIXNET_FEATURES;
  const sum = new Float64Array(F);
  const sq = new Float64Array(F);
  let n = 0;
  for (const s of stems) {
    for (const v of s.variants) {
      for (let c = 0; c < F; c++) {
        sum[c] += v.row[c];
        sq[c] += v.row[c] * v.row[c];
      }
      n++;
    }
  }
  const mu = Array.from(sum, (v) => v / n);
  const invSd = Array.from(sq, (v, c) => {
    const variance = v / n - mu[c] * mu[c];
    return variance > 1e-12 ? 1 / Math.sqrt(variance) : 0;
  });
  mu[0] = 0;
  invSd[0] = 0;
  if (readLevel) {
    let sqLevel = 0, count = 0;
    for (const song of bySong) {
      for (let v = 0; v < song[0].variants.length; v++) {
        const mean = song.reduce((acc, st) => acc + st.variants[v].lufs, 0) / song.length;
        for (const st of song) {
          sqLevel += (st.variants[v].lufs - mean) ** 2;
          count++;
        }
      }
    }
    invSd[0] = count ? 1 / Math.sqrt(sqLevel / count) : 0;
  }
  return { mu, invSd };
}

export interface Batch {
  x: Float32Array;
  y: Float32Array;
  /** Tracks per session, in order. */
  sizes: number[];
}

/** Random sessions: a random subset of one song's stems, each under a random one of its corruptions. */
export function sampleBatch(bySong: StemExamples[][], count: number, random: () => number, cfg: TrainConfig): Batch {
  const xs: Float32Array[] = [];
  const ys: Float32Array[] = [];
  const sizes: number[] = [];
  const everyStem = cfg.crossSong > 0 ? bySong.flat() : [];
  for (let b = 0; b < count; b++) {
    const stems = random() < cfg.crossSong ? everyStem : bySong[Math.floor(random() * bySong.length)];
    const maxN = Math.min(cfg.maxTracks, stems.length);
    const minN = Math.min(cfg.minTracks, maxN);
    const n = minN + Math.floor(random() * (maxN - minN + 1));
    const order = stems.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const picked = order.slice(0, n).map((i) => stems[i].variants[Math.floor(random() * stems[i].variants.length)]);
    const { x, y } = assembleSession(picked);
    xs.push(x);
    ys.push(y);
    sizes.push(n);
  }
  return { x: concat(xs), y: concat(ys), sizes };
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---- Dense algebra on row-major Float64Arrays ----

/** out[r×c] = a[r×k] · b[k×c] (+ out when accumulate). */
function matmul(a: Float64Array, b: Float64Array, r: number, k: number, c: number, out: Float64Array, accumulate = false): Float64Array {
  if (!accumulate) out.fill(0, 0, r * c);
  for (let i = 0; i < r; i++) {
    const ai = i * k, oi = i * c;
    for (let j = 0; j < k; j++) {
      const v = a[ai + j];
      if (v === 0) continue;
      const bj = j * c;
      for (let m = 0; m < c; m++) out[oi + m] += v * b[bj + m];
    }
  }
  return out;
}

/** out[k×c] = aᵀ · b for a [r×k], b [r×c]. */
function matmulTA(a: Float64Array, b: Float64Array, r: number, k: number, c: number, out: Float64Array): Float64Array {
  out.fill(0, 0, k * c);
  for (let i = 0; i < r; i++) {
    const ai = i * k, bi = i * c;
    for (let j = 0; j < k; j++) {
      const v = a[ai + j];
      if (v === 0) continue;
      const oj = j * c;
      for (let m = 0; m < c; m++) out[oj + m] += v * b[bi + m];
    }
  }
  return out;
}

/** out[r×k] = a[r×c] · bᵀ for b [k×c]. */
function matmulTB(a: Float64Array, b: Float64Array, r: number, c: number, k: number, out: Float64Array, accumulate = false): Float64Array {
  if (!accumulate) out.fill(0, 0, r * k);
  for (let i = 0; i < r; i++) {
    const ai = i * c, oi = i * k;
    for (let j = 0; j < k; j++) {
      const bj = j * c;
      let s = 0;
      for (let m = 0; m < c; m++) s += a[ai + m] * b[bj + m];
      out[oi + j] += s;
    }
  }
  return out;
}

/** Each row replaced by the mean of its session's rows (symmetric, so it is its own transpose). */
function segmentMean(a: Float64Array, sizes: number[], cols: number, out: Float64Array): Float64Array {
  let row = 0;
  for (const n of sizes) {
    for (let m = 0; m < cols; m++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += a[(row + i) * cols + m];
      s /= n;
      for (let i = 0; i < n; i++) out[(row + i) * cols + m] = s;
    }
    row += n;
  }
  return out;
}

/** `keep` (one value): the share of the arriving relative loudness the gain keeps; see mixnet-weights.ts. */
export type Params = Record<'W1' | 'b1' | 'W2' | 'V2' | 'b2' | 'W3' | 'V3' | 'b3' | 'W4' | 'b4' | 'keep', Float64Array>;
const PARAM_NAMES = ['W1', 'b1', 'W2', 'V2', 'b2', 'W3', 'V3', 'b3', 'W4', 'b4', 'keep'] as const;

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export function initParams(hidden: number, random: () => number): Params {
  const F = MIXNET_FEATURES, H = hidden, O = MIXNET_OUTPUTS;
  const he = (rows: number, cols: number, gain = 1) => Float64Array.from({ length: rows * cols }, () => gaussian(random) * gain * Math.sqrt(2 / rows));
  return {
    W1: he(F, H),
    b1: new Float64Array(H),
    W2: he(H, H, Math.SQRT1_2),
    V2: he(H, H, Math.SQRT1_2),
    b2: new Float64Array(H),
    W3: he(H, H, Math.SQRT1_2),
    V3: he(H, H, Math.SQRT1_2),
    b3: new Float64Array(H),
    W4: he(H, O, 0.1),
    b4: new Float64Array(O),
    // Halfway between trusting the arriving balance (1) and equal loudness (0).
    keep: Float64Array.of(0.5),
  };
}

/**
 * Loss and gradients of one batch: mean over tracks of Σ_o huber(scale_o · (out − y)) (e² within
 * ±huber, linear beyond), plus weightDecay · Σ‖W‖² over the six matrices. `noise` (normalised
 * units) may be null.
 */
export function lossAndGradients(
  p: Params,
  norm: Normalisation,
  batch: Batch,
  scales: Float64Array,
  weightDecay: number,
  noise: Float64Array | null,
  huber = Infinity,
): { loss: number; grads: Params; out: Float64Array } {
  const F = MIXNET_FEATURES, O = MIXNET_OUTPUTS, H = p.b1.length;
  const { sizes } = batch;
  const T = sizes.reduce((s, n) => s + n, 0);
  const x = batch.x;
  const xn = new Float64Array(T * F);
  for (let t = 0; t < T; t++) for (let c = 0; c < F; c++) xn[t * F + c] = clipInput((x[t * F + c] - norm.mu[c]) * norm.invSd[c]) + (noise ? noise[t * F + c] : 0);

  const bias = (z: Float64Array, b: Float64Array, cols: number) => {
    for (let t = 0; t < T; t++) for (let m = 0; m < cols; m++) z[t * cols + m] += b[m];
  };
  const relu = (z: Float64Array) => Float64Array.from(z, (v) => (v > 0 ? v : 0));

  const z1 = matmul(xn, p.W1, T, F, H, new Float64Array(T * H));
  bias(z1, p.b1, H);
  const h1 = relu(z1);
  const c1 = segmentMean(h1, sizes, H, new Float64Array(T * H));
  const z2 = matmul(h1, p.W2, T, H, H, new Float64Array(T * H));
  matmul(c1, p.V2, T, H, H, z2, true);
  bias(z2, p.b2, H);
  const h2 = relu(z2);
  const c2 = segmentMean(h2, sizes, H, new Float64Array(T * H));
  const z3 = matmul(h2, p.W3, T, H, H, new Float64Array(T * H));
  matmul(c2, p.V3, T, H, H, z3, true);
  bias(z3, p.b3, H);
  const h3 = relu(z3);
  const out = matmul(h3, p.W4, T, H, O, new Float64Array(T * O));
  bias(out, p.b4, O);
  const gainCol = new Float64Array(T);
  const keep = p.keep[0];
  for (let t = 0; t < T; t++) gainCol[t] = out[t * O] + (keep - 1) * x[t * F];
  const gainMean = segmentMean(gainCol, sizes, 1, new Float64Array(T));
  for (let t = 0; t < T; t++) out[t * O] = gainCol[t] - gainMean[t];

  let loss = 0;
  const dOut = new Float64Array(T * O);
  for (let t = 0; t < T; t++) {
    for (let o = 0; o < O; o++) {
      const e = (out[t * O + o] - batch.y[t * O + o]) * scales[o];
      if (Math.abs(e) <= huber) {
        loss += (e * e) / T;
        dOut[t * O + o] = (2 * e * scales[o]) / T;
      } else {
        loss += (2 * huber * Math.abs(e) - huber * huber) / T;
        dOut[t * O + o] = (2 * huber * Math.sign(e) * scales[o]) / T;
      }
    }
  }
  let decay = 0;
  for (const n of MATRIX_NAMES) for (const v of p[n]) decay += v * v;
  loss += weightDecay * decay;

  // Backward. The gain column's session mean removal is its own adjoint.
  const dGain = new Float64Array(T);
  for (let t = 0; t < T; t++) dGain[t] = dOut[t * O];
  const dGainMean = segmentMean(dGain, sizes, 1, new Float64Array(T));
  const dy = dOut;
  for (let t = 0; t < T; t++) dy[t * O] = dGain[t] - dGainMean[t];

  const colSum = (d: Float64Array, cols: number) => {
    const s = new Float64Array(cols);
    for (let t = 0; t < T; t++) for (let m = 0; m < cols; m++) s[m] += d[t * cols + m];
    return s;
  };
  const reluBack = (d: Float64Array, z: Float64Array) => {
    for (let i = 0; i < d.length; i++) if (z[i] <= 0) d[i] = 0;
    return d;
  };
  const g = {} as Params;
  let dKeep = 0;
  for (let t = 0; t < T; t++) dKeep += dy[t * O] * x[t * F];
  g.keep = Float64Array.of(dKeep);
  g.W4 = matmulTA(h3, dy, T, H, O, new Float64Array(H * O));
  g.b4 = colSum(dy, O);
  const dz3 = reluBack(matmulTB(dy, p.W4, T, O, H, new Float64Array(T * H)), z3);
  g.W3 = matmulTA(h2, dz3, T, H, H, new Float64Array(H * H));
  g.V3 = matmulTA(c2, dz3, T, H, H, new Float64Array(H * H));
  g.b3 = colSum(dz3, H);
  const dh2 = matmulTB(dz3, p.W3, T, H, H, new Float64Array(T * H));
  const dc2 = matmulTB(dz3, p.V3, T, H, H, new Float64Array(T * H));
  const dc2Pooled = segmentMean(dc2, sizes, H, new Float64Array(T * H));
  for (let i = 0; i < dh2.length; i++) dh2[i] += dc2Pooled[i];
  const dz2 = reluBack(dh2, z2);
  g.W2 = matmulTA(h1, dz2, T, H, H, new Float64Array(H * H));
  g.V2 = matmulTA(c1, dz2, T, H, H, new Float64Array(H * H));
  g.b2 = colSum(dz2, H);
  const dh1 = matmulTB(dz2, p.W2, T, H, H, new Float64Array(T * H));
  const dc1 = matmulTB(dz2, p.V2, T, H, H, new Float64Array(T * H));
  const dc1Pooled = segmentMean(dc1, sizes, H, new Float64Array(T * H));
  for (let i = 0; i < dh1.length; i++) dh1[i] += dc1Pooled[i];
  const dz1 = reluBack(dh1, z1);
  g.W1 = matmulTA(xn, dz1, T, F, H, new Float64Array(F * H));
  g.b1 = colSum(dz1, H);
  for (const n of MATRIX_NAMES) {
    const w = p[n], gw = g[n];
    for (let i = 0; i < w.length; i++) gw[i] += 2 * weightDecay * w[i];
  }
  return { loss, grads: g, out };
}

export interface TrainResult {
  weights: MixnetWeights;
  losses: { step: number; loss: number }[];
  seconds: number;
}

export function toWeights(p: Params, norm: Normalisation, hidden: number): MixnetWeights {
  const w = { features: MIXNET_FEATURES, hidden, outputs: MIXNET_OUTPUTS, mu: norm.mu, invSd: norm.invSd } as MixnetWeights;
  for (const n of PARAM_NAMES) if (n !== 'keep') w[n] = Array.from(p[n], (v) => Math.fround(v));
  w.levelKeep = Math.fround(p.keep[0]);
  for (const n of MATRIX_NAMES) if (w[n].length !== matrixShape(w, n)[0] * matrixShape(w, n)[1]) throw new Error(`bad shape of ${n}`);
  return w;
}

export function trainMixnet(train: StemExamples[][], norm: Normalisation, cfg: TrainConfig, log: (line: string) => void = () => {}): TrainResult {
  const random = seededRandom(cfg.seed);
  const started = performance.now();
  const p = initParams(cfg.hidden, random);
  const m = {} as Params;
  const v = {} as Params;
  for (const n of PARAM_NAMES) {
    m[n] = new Float64Array(p[n].length);
    v[n] = new Float64Array(p[n].length);
  }
  const scales = lossScales(cfg);
  const beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  const losses: { step: number; loss: number }[] = [];
  let running = 0;
  for (let step = 1; step <= cfg.steps; step++) {
    // Cosine decay to 5 % of the initial rate.
    const lr = cfg.learningRate * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * (step - 1)) / cfg.steps)));
    const batch = sampleBatch(train, cfg.batch, random, cfg);
    const T = batch.sizes.reduce((s, n) => s + n, 0);
    const noise = Float64Array.from({ length: T * MIXNET_FEATURES }, (_, i) => (norm.invSd[i % MIXNET_FEATURES] === 0 ? 0 : gaussian(random) * cfg.inputNoise));
    const { loss, grads } = lossAndGradients(p, norm, batch, scales, cfg.weightDecay, noise, cfg.huber);
    const c1 = 1 - beta1 ** step, c2 = 1 - beta2 ** step;
    for (const n of PARAM_NAMES) {
      const w = p[n], g = grads[n], mn = m[n], vn = v[n];
      for (let i = 0; i < w.length; i++) {
        mn[i] = beta1 * mn[i] + (1 - beta1) * g[i];
        vn[i] = beta2 * vn[i] + (1 - beta2) * g[i] * g[i];
        w[i] -= (lr * (mn[i] / c1)) / (Math.sqrt(vn[i] / c2) + eps);
      }
    }
    running = step === 1 ? loss : 0.98 * running + 0.02 * loss;
    if (step % 250 === 0 || step === cfg.steps) {
      losses.push({ step, loss: Math.round(running * 1e4) / 1e4 });
      log(`step ${step}/${cfg.steps}: loss ${running.toFixed(4)} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
  }
  return { weights: toWeights(p, norm, cfg.hidden), losses, seconds: (performance.now() - started) / 1000 };
}

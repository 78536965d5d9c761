// mixnet's parameters, shared by the trainer (tfjs), the ONNX export and a plain reference forward.
//
// DeepSets with two context layers, for one song of N tracks (x: [N, F]):
//   xn = clip((x − mu) · invSd, ±3)            feature normalisation (invSd[0] = 0: level column unused);
//                                              the clip keeps a track unlike any in training from extrapolating
//   h1 = relu(xn·W1 + b1)
//   h2 = relu(h1·W2 + mean_n(h1)·V2 + b2)      mean over the song's tracks, broadcast back
//   h3 = relu(h2·W3 + mean_n(h2)·V3 + b3)
//   y  = h3·W4 + b4                            [N, 6]: gain, pan, 4 EQ gains
//   y[:,0] += (keep − 1)·x[:,0]                gain = (predicted correction + keep · current relative loudness)
//                                              − current relative loudness; `keep`, learnt, is how much of the
//                                              balance the stems arrive with the model trusts
//   y[:,0] −= mean_n(y[:,0])                   relative levels only
// Every step is per track or an order-free mean, so the model is permutation-equivariant.
export interface MixnetWeights {
  features: number;
  hidden: number;
  outputs: number;
  mu: number[];
  invSd: number[];
  /** Row-major [in, out] matrices. */
  W1: number[];
  b1: number[];
  W2: number[];
  V2: number[];
  b2: number[];
  W3: number[];
  V3: number[];
  b3: number[];
  W4: number[];
  b4: number[];
  /** Learnt share of the arriving relative loudness kept (0: none, as in 1.0.0; 1: all). */
  levelKeep?: number;
}

/** Normalised inputs are clipped to ±this many standard deviations of the training rows. */
export const INPUT_CLIP = 3;

export const clipInput = (v: number): number => Math.max(-INPUT_CLIP, Math.min(INPUT_CLIP, v));

export const MATRIX_NAMES = ['W1', 'W2', 'V2', 'W3', 'V3', 'W4'] as const;
export type MatrixName = (typeof MATRIX_NAMES)[number];

export function matrixShape(w: MixnetWeights, name: MatrixName): [number, number] {
  if (name === 'W1') return [w.features, w.hidden];
  if (name === 'W4') return [w.hidden, w.outputs];
  return [w.hidden, w.hidden];
}

/** Float64 forward pass of one song (x row-major [n, features]): the reference the exports are checked against. */
export function mixnetForward(w: MixnetWeights, x: Float32Array | number[], n: number): Float64Array {
  const F = w.features, H = w.hidden, O = w.outputs;
  const matmul = (a: ArrayLike<number>, rows: number, inner: number, m: number[], cols: number): Float64Array => {
    const out = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < inner; k++) {
        const v = a[r * inner + k];
        if (v === 0) continue;
        for (let c = 0; c < cols; c++) out[r * cols + c] += v * m[k * cols + c];
      }
    }
    return out;
  };
  const meanRows = (a: Float64Array, rows: number, cols: number): Float64Array => {
    const out = new Float64Array(cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c] += a[r * cols + c] / rows;
    return out;
  };
  const xn = new Float64Array(n * F);
  for (let r = 0; r < n; r++) for (let c = 0; c < F; c++) xn[r * F + c] = clipInput((x[r * F + c] - w.mu[c]) * w.invSd[c]);
  const layer = (h: Float64Array, inner: number, W: number[], V: number[] | null, b: number[]): Float64Array => {
    const z = matmul(h, n, inner, W, H);
    const ctx = V ? matmul(meanRows(h, n, inner), 1, inner, V, H) : null;
    for (let r = 0; r < n; r++) for (let c = 0; c < H; c++) z[r * H + c] = Math.max(0, z[r * H + c] + (ctx ? ctx[c] : 0) + b[c]);
    return z;
  };
  const h1 = layer(xn, F, w.W1, null, w.b1);
  const h2 = layer(h1, H, w.W2, w.V2, w.b2);
  const h3 = layer(h2, H, w.W3, w.V3, w.b3);
  const y = matmul(h3, n, H, w.W4, O);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < O; c++) y[r * O + c] += w.b4[c];
    y[r * O] += ((w.levelKeep ?? 0) - 1) * x[r * F];
  }
  let mean = 0;
  for (let r = 0; r < n; r++) mean += y[r * O] / n;
  for (let r = 0; r < n; r++) y[r * O] -= mean;
  return y;
}

// mixnet as an ONNX graph (onnx-proto), in three weight types:
// - fp32: float32 initializers;
// - fp16: the six weight matrices stored as float16, each Cast to float32 before its MatMul;
// - int8: the six matrices quantized per output column (symmetric, zero point 0) and restored by
//   DequantizeLinear (QDQ weight-only quantization); activations stay float32.
// Normalisation (mu, invSd), biases and the two fixed selector matrices stay float32 in every
// variant. The normalised inputs are clipped to ±INPUT_CLIP with ReLUs.
// Input "features" float32 [tracks, F], output "settings" float32 [tracks, 6]; opset 13,
// IR 7, only MatMul/Add/Sub/Mul/Relu/ReduceMean/Cast/DequantizeLinear, which onnxruntime-web runs
// on WASM and WebGPU.
import onnxProto from 'onnx-proto';
import { INPUT_CLIP, MATRIX_NAMES, matrixShape, type MatrixName, type MixnetWeights } from './mixnet-weights';

const { onnx } = onnxProto;
type DType = 'fp32' | 'fp16' | 'int8';
export const OPSET = 13;
export const IR_VERSION = 7;

/** IEEE 754 half from a float (round to nearest even); no package converts single values without a Float16Array polyfill. */
export function toHalfBits(value: number): number {
  const f32 = new Float32Array([value]);
  const u = new Uint32Array(f32.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Per-column symmetric int8: q = round(w / scale), scale = max|w| / 127 per output column. */
export function quantizePerColumn(m: readonly number[], rows: number, cols: number): { q: Int8Array; scale: Float32Array } {
  const scale = new Float32Array(cols);
  for (let c = 0; c < cols; c++) {
    let max = 0;
    for (let r = 0; r < rows; r++) max = Math.max(max, Math.abs(m[r * cols + c]));
    scale[c] = max > 0 ? max / 127 : 1;
  }
  const q = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) q[r * cols + c] = Math.max(-127, Math.min(127, Math.round(m[r * cols + c] / scale[c])));
  return { q, scale };
}

function floatTensor(name: string, dims: number[], values: ArrayLike<number>): onnxProto.onnx.ITensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) };
}

function halfTensor(name: string, dims: number[], values: ArrayLike<number>): onnxProto.onnx.ITensorProto {
  const bits = Uint16Array.from(Array.from(values, toHalfBits));
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT16, rawData: new Uint8Array(bits.buffer) };
}

function int8Tensor(name: string, dims: number[], values: Int8Array): onnxProto.onnx.ITensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.INT8, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

function node(op: string, inputs: string[], outputs: string[], attrs: onnxProto.onnx.IAttributeProto[] = []): onnxProto.onnx.INodeProto {
  return { opType: op, input: inputs, output: outputs, name: `${op}_${outputs[0]}`, attribute: attrs };
}

const intsAttr = (name: string, ints: number[]): onnxProto.onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints });
const intAttr = (name: string, i: number): onnxProto.onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });

function valueInfo(name: string, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export interface ExportInfo {
  docString: string;
  metadata: Record<string, string>;
}

/** The serialized model of one variant. */
export function exportMixnet(w: MixnetWeights, dtype: DType, info: ExportInfo): Uint8Array {
  const F = w.features, H = w.hidden, O = w.outputs;
  const initializers: onnxProto.onnx.ITensorProto[] = [];
  const nodes: onnxProto.onnx.INodeProto[] = [];

  /** Name of the float32 value holding a weight matrix, adding whatever restores it. */
  const matrix = (name: MatrixName): string => {
    const [rows, cols] = matrixShape(w, name);
    const values = w[name];
    if (dtype === 'fp32') {
      initializers.push(floatTensor(name, [rows, cols], values));
      return name;
    }
    if (dtype === 'fp16') {
      initializers.push(halfTensor(`${name}_f16`, [rows, cols], values));
      nodes.push(node('Cast', [`${name}_f16`], [name], [intAttr('to', onnx.TensorProto.DataType.FLOAT)]));
      return name;
    }
    const { q, scale } = quantizePerColumn(values, rows, cols);
    initializers.push(int8Tensor(`${name}_q`, [rows, cols], q), floatTensor(`${name}_scale`, [cols], scale), int8Tensor(`${name}_zero`, [cols], new Int8Array(cols)));
    nodes.push(node('DequantizeLinear', [`${name}_q`, `${name}_scale`, `${name}_zero`], [name], [intAttr('axis', 1)]));
    return name;
  };

  initializers.push(floatTensor('mu', [F], w.mu), floatTensor('inv_sd', [F], w.invSd), floatTensor('clip', [1], [INPUT_CLIP]));
  for (const b of ['b1', 'b2', 'b3'] as const) initializers.push(floatTensor(b, [H], w[b]));
  initializers.push(floatTensor('b4', [O], w.b4));
  // skip: x·S puts (keep − 1) · relative loudness into the gain column; D selects the gain column's mean.
  const S = new Float32Array(F * O);
  S[0] = (w.levelKeep ?? 0) - 1;
  const D = new Float32Array(O * O);
  D[0] = 1;
  initializers.push(floatTensor('skip', [F, O], S), floatTensor('gain_only', [O, O], D));
  const mats = Object.fromEntries(MATRIX_NAMES.map((n) => [n, matrix(n)])) as Record<MatrixName, string>;

  const mean = (input: string, output: string) => node('ReduceMean', [input], [output], [intsAttr('axes', [0]), intAttr('keepdims', 1)]);
  nodes.push(
    node('Sub', ['features', 'mu'], ['centred']),
    node('Mul', ['centred', 'inv_sd'], ['scaled']),
    // clip(v, ±c) = relu(v + c) − relu(v − c) − c, in operators every execution provider has.
    node('Add', ['scaled', 'clip'], ['lift']),
    node('Relu', ['lift'], ['lift_pos']),
    node('Sub', ['scaled', 'clip'], ['drop']),
    node('Relu', ['drop'], ['drop_pos']),
    node('Sub', ['lift_pos', 'drop_pos'], ['clipped_lift']),
    node('Sub', ['clipped_lift', 'clip'], ['xn']),
    node('MatMul', ['xn', mats.W1], ['a1']),
    node('Add', ['a1', 'b1'], ['z1']),
    node('Relu', ['z1'], ['h1']),
  );
  for (const [k, prev] of [[2, 'h1'], [3, 'h2']] as const) {
    nodes.push(
      mean(prev, `c${k}`),
      node('MatMul', [`c${k}`, mats[`V${k}` as MatrixName]], [`cv${k}`]),
      node('MatMul', [prev, mats[`W${k}` as MatrixName]], [`a${k}`]),
      node('Add', [`a${k}`, `cv${k}`], [`s${k}`]),
      node('Add', [`s${k}`, `b${k}`], [`z${k}`]),
      node('Relu', [`z${k}`], [`h${k}`]),
    );
  }
  nodes.push(
    node('MatMul', ['h3', mats.W4], ['a4']),
    node('Add', ['a4', 'b4'], ['y']),
    node('MatMul', ['features', 'skip'], ['level']),
    node('Add', ['y', 'level'], ['pre']),
    mean('pre', 'pre_mean'),
    node('MatMul', ['pre_mean', 'gain_only'], ['gain_mean']),
    node('Sub', ['pre', 'gain_mean'], ['settings']),
  );

  const model: onnxProto.onnx.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'ai-mixer scripts/train.ts',
    producerVersion: '1',
    docString: info.docString,
    metadataProps: Object.entries(info.metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: `mixnet_${dtype}`,
      node: nodes,
      initializer: initializers,
      input: [valueInfo('features', ['tracks', F])],
      output: [valueInfo('settings', ['tracks', O])],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** The weights as the int8 or fp16 variant computes with them (for tolerance reports). */
export function roundTripWeights(w: MixnetWeights, dtype: DType): MixnetWeights {
  if (dtype === 'fp32') return w;
  const out: MixnetWeights = { ...w };
  for (const name of MATRIX_NAMES) {
    const [rows, cols] = matrixShape(w, name);
    if (dtype === 'fp16') out[name] = w[name].map((v) => fromHalfBits(toHalfBits(v)));
    else {
      const { q, scale } = quantizePerColumn(w[name], rows, cols);
      out[name] = Array.from(q, (v, i) => v * scale[i % cols]);
    }
  }
  return out;
}

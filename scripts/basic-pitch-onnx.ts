// Converts basic-pitch's trained model (the tfjs graph model that @spotify/basic-pitch ships, Apache-2.0) to ONNX
// once, so it runs through our single ORT seam (src/ml/ort.ts) instead of a second runtime. Same weights, same graph:
// each TF op maps to its ONNX equivalent; TF's NHWC convolutions are wrapped in Transposes to ONNX's NCHW (ORT's
// optimiser folds the pairs). Input "audio" float32 [batch, 43844, 1] at 22050 Hz; outputs "note" and "onset" float32
// [batch, 172, 88], "contour" float32 [batch, 172, 264]. Opset 17, IR 8.
//   npx tsx scripts/basic-pitch-onnx.ts   → models/basic-pitch/basic-pitch.onnx (+ prints its SHA-256 and size)
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type Node = onnxProto.onnx.INodeProto;
type Tensor = onnxProto.onnx.ITensorProto;
type Attr = onnxProto.onnx.IAttributeProto;

export const SOURCE_DIR = 'node_modules/@spotify/basic-pitch/model';
export const DERIVED_FILE = 'models/basic-pitch/basic-pitch.onnx';
export const OUTPUT_NAMES = { Identity: 'contour', Identity_1: 'note', Identity_2: 'onset' } as const;

interface TfAttrValue {
  i?: string;
  f?: number;
  b?: boolean;
  s?: string;
  type?: string;
  list?: { i?: string[]; s?: string[] };
  shape?: unknown;
  tensor?: unknown;
}
interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttrValue>;
}
export interface TfGraphModel {
  modelTopology: { node: TfNode[] };
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: 'float32' | 'int32' }[] }[];
}
interface Const {
  dtype: 'float32' | 'int32';
  shape: number[];
  values: Float32Array | Int32Array;
}

/** The graph's constants, read from the weights file in manifest order. */
export function readConstants(model: TfGraphModel, weights: Uint8Array): Map<string, Const> {
  const out = new Map<string, Const>();
  let offset = 0;
  for (const group of model.weightsManifest) {
    for (const w of group.weights) {
      const count = w.shape.reduce((a, b) => a * b, 1);
      const bytes = weights.slice(offset, offset + count * 4);
      offset += count * 4;
      const values = w.dtype === 'float32' ? new Float32Array(bytes.buffer) : new Int32Array(bytes.buffer);
      out.set(w.name, { dtype: w.dtype, shape: w.shape, values });
    }
  }
  if (offset !== weights.byteLength) throw new Error(`basic-pitch weights: read ${offset} bytes of ${weights.byteLength}`);
  return out;
}

const decode = (s: string | undefined) => (s ? Buffer.from(s, 'base64').toString('utf8') : '');
const ints = (name: string, v: number[]): Attr => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
const int = (name: string, v: number): Attr => ({ name, type: onnx.AttributeProto.AttributeType.INT, i: v });
const str = (name: string, v: string): Attr => ({ name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) });
const float32Tensor = (name: string, dims: number[], values: Float32Array): Tensor => ({
  name,
  dims,
  dataType: onnx.TensorProto.DataType.FLOAT,
  rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)),
});
const int64Tensor = (name: string, dims: number[], values: ArrayLike<number>): Tensor => ({
  name,
  dims,
  dataType: onnx.TensorProto.DataType.INT64,
  rawData: new Uint8Array(BigInt64Array.from(Array.from(values, (v) => BigInt(v))).buffer),
});

function valueInfo(name: string, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } };
}

/** HWIO (TF) → OIHW (ONNX). */
function filterToOihw(c: Const): { dims: number[]; values: Float32Array } {
  const [h, w, i, o] = c.shape;
  const src = c.values as Float32Array;
  const dst = new Float32Array(src.length);
  for (let a = 0; a < h; a++) for (let b = 0; b < w; b++) for (let ci = 0; ci < i; ci++) for (let co = 0; co < o; co++) {
    dst[((co * i + ci) * h + a) * w + b] = src[((a * w + b) * i + ci) * o + co];
  }
  return { dims: [o, i, h, w], values: dst };
}

export function convertBasicPitch(model: TfGraphModel, weights: Uint8Array): Uint8Array {
  const consts = readConstants(model, weights);
  const nodes: Node[] = [];
  const initializer: Tensor[] = [];
  const used = new Set<string>();
  let serial = 0;
  const fresh = (base: string) => `${base}__${serial++}`;
  const add = (op: string, input: string[], output: string[], attribute: Attr[] = []) => nodes.push({ opType: op, input, output, attribute, name: output[0] });
  const int64Const = (values: number[], dims = [values.length]) => {
    const name = fresh('k');
    initializer.push(int64Tensor(name, dims, values));
    return name;
  };
  // Integer constants are only indices, shapes, paddings and axes: ONNX wants them as int64.
  const useConst = (name: string) => {
    if (used.has(name)) return;
    const c = consts.get(name);
    if (!c) return;
    used.add(name);
    initializer.push(c.dtype === 'float32' ? float32Tensor(name, c.shape, c.values as Float32Array) : int64Tensor(name, c.shape, c.values));
  };
  const constValues = (name: string): number[] => {
    const c = consts.get(name);
    if (!c) throw new Error(`basic-pitch: ${name} is not a constant`);
    return Array.from(c.values);
  };
  const maskBit = (attr: Record<string, TfAttrValue>, key: string, bit: number) => ((Number(attr[key]?.i ?? 0) >> bit) & 1) === 1;

  for (const n of model.modelTopology.node) {
    const attr = n.attr ?? {};
    const inputs = (n.input ?? []).filter((i) => !i.startsWith('^'));
    const out = n.name;
    switch (n.op) {
      case 'Const':
        break;
      case 'Placeholder':
        add('Identity', ['audio'], [out]);
        break;
      case 'Identity':
        useConst(inputs[0]);
        add('Identity', [inputs[0]], [out]);
        break;
      case 'Shape':
        add('Shape', [inputs[0]], [out]);
        break;
      case 'Neg':
      case 'Sigmoid':
      case 'Sqrt':
      case 'Log':
        add(n.op, [inputs[0]], [out]);
        break;
      case 'Square':
        add('Mul', [inputs[0], inputs[0]], [out]);
        break;
      case 'Mul':
      case 'Sub':
      case 'Add':
      case 'AddV2':
        inputs.forEach(useConst);
        add(n.op === 'AddV2' ? 'Add' : n.op, inputs, [out]);
        break;
      case 'DivNoNan': {
        // x / y, and 0 where y is 0 (not NaN or ±inf).
        inputs.forEach(useConst);
        const zero = fresh('zero');
        initializer.push(float32Tensor(zero, [], new Float32Array([0])));
        const isZero = fresh('is_zero');
        const div = fresh('div');
        add('Equal', [inputs[1], zero], [isZero]);
        add('Div', inputs, [div]);
        add('Where', [isZero, zero, div], [out]);
        break;
      }
      case 'Transpose':
        add('Transpose', [inputs[0]], [out], [ints('perm', constValues(inputs[1]))]);
        break;
      case 'ExpandDims':
        add('Unsqueeze', [inputs[0], int64Const(constValues(inputs[1]))], [out]);
        break;
      case 'Squeeze': {
        const dims = (attr.squeeze_dims?.list?.i ?? []).map(Number);
        add('Squeeze', dims.length ? [inputs[0], int64Const(dims)] : [inputs[0]], [out]);
        break;
      }
      case 'Reshape':
        useConst(inputs[1]);
        add('Reshape', inputs, [out]);
        break;
      case 'Pack': {
        const axis = Number(attr.axis?.i ?? 0);
        const parts = inputs.map((i) => {
          useConst(i);
          const u = fresh(`${out}/unsq`);
          add('Unsqueeze', [i, int64Const([axis])], [u]);
          return u;
        });
        add('Concat', parts, [out], [int('axis', axis)]);
        break;
      }
      case 'ConcatV2': {
        const axis = constValues(inputs[inputs.length - 1])[0];
        const parts = inputs.slice(0, -1);
        parts.forEach(useConst);
        add('Concat', parts, [out], [int('axis', axis)]);
        break;
      }
      case 'Pad':
      case 'MirrorPad': {
        const p = constValues(inputs[1]);
        const rank = p.length / 2;
        const pads = [...Array.from({ length: rank }, (_, d) => p[2 * d]), ...Array.from({ length: rank }, (_, d) => p[2 * d + 1])];
        const mode = n.op === 'MirrorPad' ? decode(attr.mode?.s).toLowerCase() : 'constant';
        if (mode !== 'constant' && mode !== 'reflect') throw new Error(`basic-pitch: MirrorPad mode ${mode}`);
        add('Pad', [inputs[0], int64Const(pads)], [out], [str('mode', mode)]);
        break;
      }
      case 'Sum':
      case 'Min':
      case 'Max': {
        const axes = constValues(inputs[1]);
        const keep = attr.keep_dims?.b ? 1 : 0;
        if (n.op === 'Sum') add('ReduceSum', [inputs[0], int64Const(axes)], [out], [int('keepdims', keep)]);
        else add(n.op === 'Min' ? 'ReduceMin' : 'ReduceMax', [inputs[0]], [out], [ints('axes', axes), int('keepdims', keep)]);
        break;
      }
      case 'StridedSlice': {
        // Spec entries map to input axes except new-axis ones; shrink axes are sliced to one then squeezed.
        if (Number(attr.ellipsis_mask?.i ?? 0) !== 0) throw new Error(`basic-pitch: ${out} uses an ellipsis mask`);
        const begin = constValues(inputs[1]);
        const end = constValues(inputs[2]);
        const strides = constValues(inputs[3]);
        const starts: number[] = [], ends: number[] = [], axes: number[] = [], steps: number[] = [], shrink: number[] = [], newAxes: number[] = [];
        let inAxis = 0, outAxis = 0;
        const BIG = 2 ** 62;
        for (let i = 0; i < begin.length; i++) {
          if (maskBit(attr, 'new_axis_mask', i)) {
            newAxes.push(outAxis++);
            continue;
          }
          const step = strides[i];
          const isShrink = maskBit(attr, 'shrink_axis_mask', i);
          const b = maskBit(attr, 'begin_mask', i) && !isShrink ? (step > 0 ? 0 : BIG) : begin[i];
          let e = maskBit(attr, 'end_mask', i) && !isShrink ? (step > 0 ? BIG : -BIG) : end[i];
          if (isShrink) e = b === -1 ? BIG : b + 1;
          starts.push(b);
          ends.push(e);
          axes.push(inAxis);
          steps.push(isShrink ? 1 : step);
          if (isShrink) shrink.push(inAxis);
          else outAxis++;
          inAxis++;
        }
        let cur = fresh(`${out}/slice`);
        add('Slice', [inputs[0], int64Const(starts), int64Const(ends), int64Const(axes), int64Const(steps)], [cur]);
        if (shrink.length) {
          const next = fresh(`${out}/squeeze`);
          add('Squeeze', [cur, int64Const(shrink)], [next]);
          cur = next;
        }
        if (newAxes.length) {
          const next = fresh(`${out}/unsqueeze`);
          add('Unsqueeze', [cur, int64Const(newAxes)], [next]);
          cur = next;
        }
        add('Identity', [cur], [out]);
        break;
      }
      case 'Conv2D':
      case '_FusedConv2D': {
        if (decode(attr.data_format?.s) !== 'NHWC') throw new Error(`basic-pitch: ${out} is not NHWC`);
        const fused = (attr.fused_ops?.list?.s ?? []).map(decode);
        if (fused.some((f) => f !== 'BiasAdd' && f !== 'Relu')) throw new Error(`basic-pitch: ${out} fuses ${fused.join(', ')}`);
        const filter = consts.get(inputs[1]);
        if (!filter) throw new Error(`basic-pitch: ${out} has a computed filter`);
        const w = filterToOihw(filter);
        const wName = `${inputs[1]}/oihw`;
        initializer.push(float32Tensor(wName, w.dims, w.values));
        const convInputs = [fresh(`${out}/nchw`), wName];
        add('Transpose', [inputs[0]], [convInputs[0]], [ints('perm', [0, 3, 1, 2])]);
        if (fused.includes('BiasAdd')) {
          useConst(inputs[2]);
          convInputs.push(inputs[2]);
        }
        const strides = (attr.strides?.list?.i ?? ['1', '1', '1', '1']).map(Number);
        const dilations = (attr.dilations?.list?.i ?? ['1', '1', '1', '1']).map(Number);
        const padding = decode(attr.padding?.s);
        if (padding !== 'SAME' && padding !== 'VALID') throw new Error(`basic-pitch: ${out} padding ${padding}`);
        const convOut = fresh(`${out}/conv`);
        // TF's SAME puts the odd pixel at the end, as ONNX's SAME_UPPER does.
        add('Conv', convInputs, [convOut], [
          ints('strides', [strides[1], strides[2]]),
          ints('dilations', [dilations[1], dilations[2]]),
          str('auto_pad', padding === 'SAME' ? 'SAME_UPPER' : 'VALID'),
          ints('kernel_shape', [filter.shape[0], filter.shape[1]]),
        ]);
        let last = convOut;
        if (fused.includes('Relu')) {
          last = fresh(`${out}/relu`);
          add('Relu', [convOut], [last]);
        }
        add('Transpose', [last], [out], [ints('perm', [0, 2, 3, 1])]);
        break;
      }
      default:
        throw new Error(`basic-pitch: TF op ${n.op} (${out}) has no ONNX mapping here`);
    }
  }
  for (const [tfName, onnxName] of Object.entries(OUTPUT_NAMES)) add('Identity', [tfName], [onnxName]);

  const graph: onnxProto.onnx.IGraphProto = {
    name: 'basic_pitch',
    node: nodes,
    initializer,
    input: [valueInfo('audio', ['batch', 43844, 1])],
    output: [valueInfo('contour', ['batch', 172, 264]), valueInfo('note', ['batch', 172, 88]), valueInfo('onset', ['batch', 172, 88])],
  };
  const m: onnxProto.onnx.IModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'ai-mixer scripts/basic-pitch-onnx.ts',
    docString: 'basic-pitch (Spotify, Apache-2.0) converted from the tfjs graph model in @spotify/basic-pitch 1.0.1; same weights.',
    graph,
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(m)).finish();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { readFileSync, writeFileSync, mkdirSync } = await import('node:fs');
  const { createHash } = await import('node:crypto');
  const model = JSON.parse(readFileSync(`${SOURCE_DIR}/model.json`, 'utf8')) as TfGraphModel;
  const weights = new Uint8Array(readFileSync(`${SOURCE_DIR}/${model.weightsManifest[0].paths[0]}`));
  const bytes = convertBasicPitch(model, weights);
  mkdirSync('models/basic-pitch', { recursive: true });
  writeFileSync(DERIVED_FILE, bytes);
  console.log(`${DERIVED_FILE}: ${bytes.length} bytes, SHA-256 ${createHash('sha256').update(bytes).digest('hex')}`);
}

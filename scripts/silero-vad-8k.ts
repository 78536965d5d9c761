// The 8 kHz path of silero VAD v5 re-expressed for batches: the same weights and the same function as the
// shipped model's `sr = 8000` branch, with each small 1-D convolution written as one MatMul over the whole batch.
//
// Why: the shipped graph runs its convolutions per batch row (output lengths 4, 2, 1 and 1), inside nested If
// nodes. Measured in onnxruntime-web 1.30 (WASM, one thread, Node, this 2-core machine) at batch 128: 210–214 µs per
// frame for the shipped file against 55–57 µs for this one (67–70 µs with the frames cut by a Gather); outputs agree
// within 5e-6 (tests/unit/podcast-vad.test.ts).
//
// The graph, for `input` [B, 32 + 256] and `state` [2, B, 128]:
// - reflect-pad the right edge by 32 samples (Gather + Concat) and cut four 128-sample frames at hop 64 (a Reshape into
//   64-sample blocks, two Slices and a Concat);
// - the STFT basis as a MatMul, magnitudes of its 65 bins;
// - four conv blocks (kernel 3, pad 1, strides 1, 2, 2, 1, ReLU), each a zero Pad, an im2col Gather and a MatMul;
// - the LSTM cell (ONNX LSTM, gates reordered from PyTorch's i,f,g,o to ONNX's i,o,f,c), ReLU, the 1×1 output conv
//   as a MatMul, sigmoid.
// Outputs `output` [B, 1] and `stateN` [2, B, 128], as the shipped model's. There is no `sr` input: 8 kHz only.
//
// Run: npm run build:vad8k (writes models/silero-vad/silero_vad_v5_8k.onnx; the test checks the file is this
// script's output for the package's model).
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type Tensor = onnxProto.onnx.ITensorProto;
type Node = onnxProto.onnx.INodeProto;

export const SOURCE_FILE = 'node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx';
export const DERIVED_FILE = 'models/silero-vad/silero_vad_v5_8k.onnx';

const WEIGHTS = [
  'stft.forward_basis_buffer',
  'encoder.0.reparam_conv.weight',
  'encoder.0.reparam_conv.bias',
  'encoder.1.reparam_conv.weight',
  'encoder.1.reparam_conv.bias',
  'encoder.2.reparam_conv.weight',
  'encoder.2.reparam_conv.bias',
  'encoder.3.reparam_conv.weight',
  'encoder.3.reparam_conv.bias',
  'decoder.rnn.weight_ih',
  'decoder.rnn.weight_hh',
  'decoder.rnn.bias_ih',
  'decoder.rnn.bias_hh',
  'decoder.decoder.2.weight',
  'decoder.decoder.2.bias',
] as const;
type WeightName = (typeof WEIGHTS)[number];

interface Weight {
  dims: number[];
  data: Float32Array;
}

function floats(t: Tensor): Float32Array {
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT) throw new Error(`${t.name}: expected float32`);
  if (t.rawData?.length) {
    const raw = t.rawData;
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  }
  return Float32Array.from(t.floatData ?? []);
}

/** The weights of the shipped model's 8 kHz branch (the top-level If's else branch: sr ≠ 16000). */
function eightKilohertzWeights(source: Uint8Array): Record<WeightName, Weight> {
  const model = onnx.ModelProto.decode(source);
  const branchIf = model.graph?.node?.find((n) => n.opType === 'If');
  const branch = branchIf?.attribute?.find((a) => a.name === 'else_branch')?.g;
  if (!branch?.node) throw new Error('not the silero VAD v5 graph: no 8 kHz branch');
  const found: Partial<Record<WeightName, Weight>> = {};
  for (const n of branch.node) {
    if (n.opType !== 'Constant') continue;
    const name = WEIGHTS.find((w) => n.output?.[0]?.endsWith(`__${w}`));
    const t = n.attribute?.find((a) => a.name === 'value')?.t;
    if (name && t) found[name] = { dims: (t.dims ?? []).map(Number), data: floats(t) };
  }
  for (const w of WEIGHTS) if (!found[w]) throw new Error(`not the silero VAD v5 graph: ${w} is missing`);
  return found as Record<WeightName, Weight>;
}

const floatTensor = (name: string, dims: number[], values: Float32Array): Tensor => ({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) });
const intTensor = (name: string, dims: number[], values: number[]): Tensor => ({ name, dims, dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer) });
const ints = (name: string, v: number[]): onnxProto.onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
const int = (name: string, v: number): onnxProto.onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i: v });

function valueInfo(name: string, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } };
}

/** [rows, cols] row-major → [cols, rows]. */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** PyTorch LSTM gate blocks (i, f, g, o) of 128 rows each → ONNX order (i, o, f, c). */
function iofc(data: Float32Array, rowLength: number): Float32Array {
  const block = 128 * rowLength;
  const out = new Float32Array(data.length);
  [0, 3, 1, 2].forEach((from, to) => out.set(data.subarray(from * block, (from + 1) * block), to * block));
  return out;
}

/** The derived model's bytes, from the shipped model's bytes. */
export function deriveSileroVad8k(source: Uint8Array): Uint8Array {
  const w = eightKilohertzWeights(source);
  const initializer: Tensor[] = [];
  const node: Node[] = [];
  const add = (op: string, input: string[], output: string[], attribute: onnxProto.onnx.IAttributeProto[] = []) => {
    node.push({ opType: op, input, output, name: `${op}_${output.find(Boolean)}`, attribute });
    return output[0];
  };
  const range = (from: number, n: number, step = 1) => Array.from({ length: n }, (_, k) => from + k * step);

  initializer.push(intTensor('at0', [1], [0]), intTensor('at1', [1], [1]), intTensor('at2', [1], [2]), intTensor('at65', [1], [65]), intTensor('at130', [1], [130]), intTensor('axis0', [1], [0]), intTensor('axis2', [1], [2]));
  // Right reflect pad by 32: padded[288 + j] = input[286 − j]; then four frames of 128 at hop 64.
  initializer.push(intTensor('reflect_idx', [32], range(286, 32, -1)));
  add('Gather', ['input', 'reflect_idx'], ['reflect'], [int('axis', 1)]);
  add('Concat', ['input', 'reflect'], ['padded'], [int('axis', 1)]);
  // Frame t is 64-sample blocks t and t + 1 side by side: two Slices and a Concat (a Gather of the 512 sample
  // indices was a third of the graph's time).
  initializer.push(intTensor('blocks_shape', [3], [0, 5, 64]), intTensor('at4', [1], [4]), intTensor('at5', [1], [5]), intTensor('axis1', [1], [1]));
  add('Reshape', ['padded', 'blocks_shape'], ['blocks']);
  add('Slice', ['blocks', 'at0', 'at4', 'axis1'], ['blocks_from']);
  add('Slice', ['blocks', 'at1', 'at5', 'axis1'], ['blocks_next']);
  add('Concat', ['blocks_from', 'blocks_next'], ['frames'], [int('axis', 2)]);
  const basis = w['stft.forward_basis_buffer'];
  if (basis.dims.join() !== '130,1,128') throw new Error(`unexpected STFT basis ${basis.dims}`);
  initializer.push(floatTensor('stft_basis', [128, 130], transpose(basis.data, 130, 128)));
  add('MatMul', ['frames', 'stft_basis'], ['spectrum']);
  add('Slice', ['spectrum', 'at0', 'at65', 'axis2'], ['re']);
  add('Slice', ['spectrum', 'at65', 'at130', 'axis2'], ['im']);
  add('Mul', ['re', 're'], ['re2']);
  add('Mul', ['im', 'im'], ['im2']);
  add('Add', ['re2', 'im2'], ['power']);
  add('Sqrt', ['power'], ['magnitude']);

  // A conv block over [B, T, C]: kernel 3, pad 1, as a zero Pad, an im2col Gather of (time, tap) and one MatMul.
  const block = (x: string, k: number, steps: number, stride: number): [string, number] => {
    const weight = w[`encoder.${k}.reparam_conv.weight` as WeightName];
    const bias = w[`encoder.${k}.reparam_conv.bias` as WeightName];
    const [cout, cin, taps] = weight.dims;
    if (taps !== 3) throw new Error(`encoder ${k}: kernel ${taps}`);
    const out = Math.floor((steps + 2 - 3) / stride) + 1;
    const p = `enc${k}`;
    initializer.push(intTensor(`${p}_pads`, [6], [0, 1, 0, 0, 1, 0]));
    add('Pad', [x, `${p}_pads`], [`${p}_padded`]);
    initializer.push(intTensor(`${p}_idx`, [out, 3], range(0, out).flatMap((t) => range(stride * t, 3))));
    add('Gather', [`${p}_padded`, `${p}_idx`], [`${p}_cols`], [int('axis', 1)]);
    initializer.push(intTensor(`${p}_shape`, [3], [0, out, 3 * cin]));
    add('Reshape', [`${p}_cols`, `${p}_shape`], [`${p}_rows`]);
    // [cout, cin, tap] → [(tap, cin), cout], matching the im2col's (tap, channel) order.
    const m = new Float32Array(3 * cin * cout);
    for (let o = 0; o < cout; o++) for (let c = 0; c < cin; c++) for (let t = 0; t < 3; t++) m[(t * cin + c) * cout + o] = weight.data[(o * cin + c) * 3 + t];
    initializer.push(floatTensor(`${p}_weight`, [3 * cin, cout], m), floatTensor(`${p}_bias`, [cout], bias.data));
    add('MatMul', [`${p}_rows`, `${p}_weight`], [`${p}_mm`]);
    add('Add', [`${p}_mm`, `${p}_bias`], [`${p}_biased`]);
    return [add('Relu', [`${p}_biased`], [`${p}_out`]), out];
  };
  let x = 'magnitude';
  let steps = 4;
  [1, 2, 2, 1].forEach((stride, k) => ([x, steps] = block(x, k, steps, stride)));
  if (steps !== 1) throw new Error(`the encoder should end on one step, not ${steps}`);

  // The LSTM cell over one step: [B, 1, 128] → [1, B, 128].
  add('Transpose', [x], ['sequence'], [ints('perm', [1, 0, 2])]);
  initializer.push(
    floatTensor('lstm_w', [1, 512, 128], iofc(w['decoder.rnn.weight_ih'].data, 128)),
    floatTensor('lstm_r', [1, 512, 128], iofc(w['decoder.rnn.weight_hh'].data, 128)),
    floatTensor('lstm_b', [1, 1024], Float32Array.from([...iofc(w['decoder.rnn.bias_ih'].data, 1), ...iofc(w['decoder.rnn.bias_hh'].data, 1)])),
  );
  add('Slice', ['state', 'at0', 'at1', 'axis0'], ['h0']);
  add('Slice', ['state', 'at1', 'at2', 'axis0'], ['c0']);
  add('LSTM', ['sequence', 'lstm_w', 'lstm_r', 'lstm_b', '', 'h0', 'c0'], ['', 'h1', 'c1'], [int('hidden_size', 128)]);
  add('Concat', ['h1', 'c1'], ['stateN'], [int('axis', 0)]);
  add('Squeeze', ['h1', 'axis0'], ['hidden']);
  add('Relu', ['hidden'], ['hidden_relu']);
  initializer.push(floatTensor('out_weight', [128, 1], w['decoder.decoder.2.weight'].data), floatTensor('out_bias', [1], w['decoder.decoder.2.bias'].data));
  add('MatMul', ['hidden_relu', 'out_weight'], ['logit_mm']);
  add('Add', ['logit_mm', 'out_bias'], ['logit']);
  add('Sigmoid', ['logit'], ['output']);

  const model: onnxProto.onnx.IModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 16 }],
    producerName: 'ai-mixer scripts/silero-vad-8k.ts',
    docString: 'silero VAD v5 (MIT, snakers4/silero-vad), its 8 kHz branch re-expressed for batched inference; same weights.',
    graph: {
      name: 'silero_vad_v5_8k',
      node,
      initializer,
      input: [valueInfo('input', ['batch', 288]), valueInfo('state', [2, 'batch', 128])],
      output: [valueInfo('output', ['batch', 1]), valueInfo('stateN', [2, 'batch', 128])],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const { createHash } = await import('node:crypto');
  const bytes = deriveSileroVad8k(new Uint8Array(readFileSync(SOURCE_FILE)));
  writeFileSync(DERIVED_FILE, bytes);
  console.log(`${DERIVED_FILE}: ${bytes.length} bytes, SHA-256 ${createHash('sha256').update(bytes).digest('hex')}`);
}

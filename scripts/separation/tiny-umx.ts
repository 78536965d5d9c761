// A tiny graph in Open-Unmix's layout, to test the app's path for real separation weights (download with progress,
// SHA-256, IndexedDB cache, self-check, segments, masks) where the real 17 MB file cannot be fetched. It is not a
// separator anyone should use: "mix" float32 [1, 2, 2049, frames] → "vocals" = mix · sigmoid(w_k · mix + b_k), with
// per-bin w, b that pass 300 Hz–4 kHz and damp the rest. Same input/output names, ranks and dynamic frame axis as
// the edgetools/umx-hq export. Run `npx tsx scripts/separation/tiny-umx.ts out.onnx` to write it.
import { writeFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const BINS = 2049;
const RATE = 44_100;
const FFT = 4096;

export function tinyUmxModel(): Uint8Array {
  const w = new Float32Array(BINS);
  const b = new Float32Array(BINS);
  for (let k = 0; k < BINS; k++) {
    const f = (k * RATE) / FFT;
    b[k] = f >= 300 && f <= 4000 ? 2 : -3;
    w[k] = 0.01;
  }
  const tensor = (name: string, values: Float32Array): onnxProto.onnx.ITensorProto => ({ name, dims: [1, 1, BINS, 1], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(values.buffer) });
  const io = (name: string): onnxProto.onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: 2 }, { dimValue: BINS }, { dimParam: 'frames' }] } } },
  });
  const node = (op: string, input: string[], output: string): onnxProto.onnx.INodeProto => ({ opType: op, input, output: [output], name: `${op}_${output}` });
  const model: onnxProto.onnx.IModelProto = {
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'ai-mixer scripts/separation/tiny-umx.ts',
    docString: 'Test graph in the Open-Unmix vocals layout; not a trained separator.',
    graph: {
      name: 'tiny_umx_vocals',
      node: [node('Mul', ['mix', 'w'], 'wx'), node('Add', ['wx', 'b'], 'z'), node('Sigmoid', ['z'], 'mask'), node('Mul', ['mix', 'mask'], 'vocals')],
      initializer: [tensor('w', w), tensor('b', b)],
      input: [io('mix')],
      output: [io('vocals')],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

if (process.argv[1]?.endsWith('tiny-umx.ts') && process.argv[2]) {
  writeFileSync(process.argv[2], tinyUmxModel());
  console.log(`wrote ${process.argv[2]}`);
}

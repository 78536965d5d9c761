// The single seam to ONNX Runtime Web: nothing else in the project imports onnxruntime-web.
//
// - Sessions are created one at a time through a single promise chain (parallel creation fails in
//   the browser) and memoized per (model key, execution provider).
// - Runs on one session are chained too: ORT rejects a run while another is in flight.
// - Tensors cross the seam as plain typed arrays (TensorData), so callers never see ORT's types.
// - In Node (unit tests) the package's node build loads its wasm from node_modules; in the
//   browser, configureOrt() points ORT at the wasm served from our own origin (never a CDN).
import * as ort from 'onnxruntime-web';
import { errorMessage } from '../shared/errors';

export type ExecutionProvider = 'webgpu' | 'wasm';

export type TensorData =
  | { type: 'float32'; data: Float32Array; dims: readonly number[] }
  | { type: 'int64'; data: BigInt64Array; dims: readonly number[] }
  | { type: 'int32'; data: Int32Array; dims: readonly number[] };

export interface ModelSession {
  readonly key: string;
  readonly ep: ExecutionProvider;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, TensorData>): Promise<Record<string, TensorData>>;
  release(): Promise<void>;
}

export interface OrtConfig {
  /** Where ORT fetches its .wasm: a folder URL ending in '/', or the wasm file's own URL. */
  wasmPaths?: string;
  /**
   * WASM threads. Default 1: without cross-origin isolation ORT cannot use threads anyway, and with
   * numThreads > 1 it has hung here when the wasm lacked COEP. Parallelism comes from our workers.
   */
  numThreads?: number;
}

export function configureOrt(config: OrtConfig): void {
  if (config.wasmPaths) {
    ort.env.wasm.wasmPaths = config.wasmPaths.endsWith('.wasm') ? { wasm: config.wasmPaths } : config.wasmPaths;
  }
  ort.env.wasm.numThreads = config.numThreads ?? 1;
}
ort.env.wasm.numThreads = 1;

interface GpuLike {
  requestAdapter(): Promise<unknown>;
}

/** True when this context (page or worker) can get a WebGPU adapter. */
export async function webgpuAvailable(): Promise<boolean> {
  const gpu = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) != null;
  } catch {
    return false;
  }
}

const sessions = new Map<string, Promise<ModelSession>>();
let creation: Promise<unknown> = Promise.resolve();

/**
 * The session for `key` on `ep` (default wasm): created once, after any creation already under
 * way, and shared by every caller. A failed creation is forgotten so a later call can retry.
 */
export function openSession(
  key: string,
  model: Uint8Array | (() => Promise<Uint8Array>),
  opts: { ep?: ExecutionProvider } = {},
): Promise<ModelSession> {
  const ep = opts.ep ?? 'wasm';
  const memo = `${key}\u0000${ep}`;
  const existing = sessions.get(memo);
  if (existing) return existing;
  const created = creation.then(() => createSession(key, model, ep));
  creation = created.catch(() => undefined);
  sessions.set(memo, created);
  created.catch(() => sessions.delete(memo));
  return created;
}

/** Releases every session of `key` (all providers), e.g. when its weights were replaced. */
export async function closeSessions(key: string): Promise<void> {
  const mine = [...sessions].filter(([memo]) => memo.startsWith(`${key}\u0000`));
  for (const [memo] of mine) sessions.delete(memo);
  await Promise.all(mine.map(async ([, p]) => (await p.catch(() => null))?.release()));
}

async function createSession(key: string, model: Uint8Array | (() => Promise<Uint8Array>), ep: ExecutionProvider): Promise<ModelSession> {
  const bytes = typeof model === 'function' ? await model() : model;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel: 'all' });
  } catch (e) {
    const why = errorMessage(e);
    throw new Error(`Could not load model "${key}" on ${ep === 'webgpu' ? 'WebGPU' : 'WASM'}: ${why}`);
  }
  let queue: Promise<unknown> = Promise.resolve();
  let released = false;
  return {
    key,
    ep,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    run(feeds) {
      const result = queue.then(async () => {
        if (released) throw new Error(`Model "${key}" was released.`);
        const input: Record<string, ort.Tensor> = {};
        for (const [name, t] of Object.entries(feeds)) input[name] = new ort.Tensor(t.type, t.data, t.dims);
        const out = await session.run(input);
        const plain: Record<string, TensorData> = {};
        for (const [name, t] of Object.entries(out)) {
          plain[name] = toTensorData(key, name, t);
          t.dispose();
        }
        return plain;
      });
      queue = result.catch(() => undefined);
      return result;
    },
    async release() {
      released = true;
      await queue;
      await session.release();
    },
  };
}

function toTensorData(key: string, name: string, t: ort.Tensor): TensorData {
  const dims = [...t.dims];
  // Copies: the output's buffer may belong to the wasm heap or a GPU download that is reused.
  switch (t.type) {
    case 'float32':
      return { type: 'float32', data: new Float32Array(t.data as Float32Array), dims };
    case 'int64':
      return { type: 'int64', data: new BigInt64Array(t.data as BigInt64Array), dims };
    case 'int32':
      return { type: 'int32', data: new Int32Array(t.data as Int32Array), dims };
    default:
      throw new Error(`Model "${key}" output "${name}" is ${t.type}; the app reads float32, int32 and int64 outputs only.`);
  }
}

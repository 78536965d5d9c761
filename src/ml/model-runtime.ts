// How a neural model gets to run on this device: its weights (cached, hash-checked), then the
// execution provider its self-check chose, remembered per device so the check runs once.
import { DEFAULT_ML_SETTINGS } from '../shared/automix';
import type { ModelMeta } from '../shared/model-meta';
import { kvGet, kvPut } from '../storage/kv';
import { fetchModelBytes, registrySource, type ModelFetchEvent, type ModelFetchProgress } from './model-fetch';
import { openSession, webgpuAvailable, type ModelSession, type TensorData } from './ort';
import { selfCheck, type SelfCheckResult } from './self-check';

/** Every setting of the ML runtime in one place (the app's "env"), documented. */
export interface MlEnv {
  /**
   * Largest absolute difference allowed between WebGPU's and WASM's outputs on the self-check
   * input before a model is pinned to WASM. A negative value forces the mismatch path (used to
   * test the fallback); Infinity trusts WebGPU blindly.
   */
  selfCheckTolerance: number;
  /** 'auto': WebGPU when an adapter exists and the self-check passes; 'wasm': never WebGPU. */
  provider: 'auto' | 'wasm';
}

export const DEFAULT_ML_ENV: MlEnv = { ...DEFAULT_ML_SETTINGS };

export interface ModelRuntimeReport {
  ep: 'webgpu' | 'wasm';
  check: SelfCheckResult | null;
  fetchEvents: ModelFetchEvent['kind'][];
  loadMs: number;
}

interface StoredCheck {
  sha256: string;
  tolerance: number;
  result: SelfCheckResult;
}

declare module '../storage/kv' {
  interface KvSchema {
    /** A model's self-check on this device, keyed by model id. */
    [key: `ml.selfcheck.${string}`]: StoredCheck;
  }
}

const checkKey = (id: string) => `ml.selfcheck.${id}` as const;

/**
 * A session for a registry model, on WebGPU if this device's self-check allows it, else WASM.
 * `defaultUrl` is where the weights live when the entry names no URL (the app's own copy).
 * `checkFeeds` is the fixed input of the self-check.
 */
export async function sessionForModel(
  meta: ModelMeta,
  defaultUrl: string,
  checkFeeds: () => Record<string, TensorData>,
  env: MlEnv,
  opts: { signal?: AbortSignal; onProgress?: (p: ModelFetchProgress) => void } = {},
): Promise<{ session: ModelSession; report: ModelRuntimeReport }> {
  const started = performance.now();
  const fetchEvents: ModelFetchEvent['kind'][] = [];
  const source = registrySource(meta, defaultUrl);
  // The key carries the hash: new weights get a new session.
  const key = `${meta.id}@${source.sha256.slice(0, 16)}`;
  let bytes: Uint8Array | null = null;
  const load = async () => (bytes ??= await fetchModelBytes(source, { ...opts, onEvent: (e) => fetchEvents.push(e.kind) }));
  const wasm = await openSession(key, load, { ep: 'wasm' });

  let check: SelfCheckResult | null = null;
  if (env.provider === 'auto') check = await deviceCheck(meta.id, source.sha256, key, wasm, load, checkFeeds, env.selfCheckTolerance);
  const ep = check?.ep ?? 'wasm';
  const session = ep === 'webgpu' ? await openSession(key, load, { ep: 'webgpu' }) : wasm;
  return { session, report: { ep, check, fetchEvents, loadMs: performance.now() - started } };
}

async function deviceCheck(
  id: string,
  sha256: string,
  key: string,
  wasm: ModelSession,
  load: () => Promise<Uint8Array>,
  checkFeeds: () => Record<string, TensorData>,
  tolerance: number,
): Promise<SelfCheckResult> {
  // Without storage (private mode) the check simply runs each time.
  const stored = await kvGet(checkKey(id)).catch(() => undefined);
  if (stored && stored.sha256 === sha256 && stored.tolerance === tolerance) return stored.result;
  let gpu: ModelSession | Error | null = null;
  if (await webgpuAvailable()) {
    gpu = await openSession(key, load, { ep: 'webgpu' }).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
  }
  const result = await selfCheck(wasm, gpu, checkFeeds(), tolerance);
  const record: StoredCheck = { sha256, tolerance, result };
  // Not remembering the result only costs a re-check next time.
  await kvPut(checkKey(id), record).catch(() => undefined);
  return result;
}

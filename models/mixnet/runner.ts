// mixnet's runner: TrackFeatures → the ONNX graph (through the ORT seam) → console settings.
//
// Pre-processing: silent tracks (no integrated loudness, or ≤ −70 LUFS) are left out; every other
// track becomes one row of models/mixnet/features.ts. Normalisation is inside the graph.
// Post-processing: the graph's gains are relative (session mean 0), pans and EQ gains absolute;
// silent tracks keep their fader (gain null), the compressor is left alone (comp null, the model
// was not trained on dynamics), master gain 0 dB; everything is clamped to the contract's ranges.
//
// Where the weights come from is a seam (MixnetSessionLoader): in the browser, automixRunner(meta) opens the
// .onnx that Vite emits next to this module through src/ml/registry-loader.ts; Node reads it from disk
// (models/registry-node.ts), hash-checked against the same entry.
import { assertAutomixTrackCount, clampAutomixOutput, neutralTrackOutput, type AutomixEqGains, type AutomixInput, type AutomixOutput, type AutomixRunner, type AutomixRunOptions, type AutomixRuntimeInfo } from '../../src/shared/automix';
import { CancelledError } from '../../src/shared/errors';
import type { ModelSession, TensorData } from '../../src/ml/ort';
import type { ModelMeta } from '../../src/shared/model-meta';
import { MIXNET_FEATURES, MIXNET_OUTPUTS, mixnetInput } from './features';

export type MixnetVariant = 'fp32' | 'fp16' | 'int8';
export const MIXNET_VARIANTS: readonly MixnetVariant[] = ['fp32', 'fp16', 'int8'];
export const MIXNET_INPUT = 'features';
export const MIXNET_OUTPUT = 'settings';

export const mixnetModelId = (variant: MixnetVariant): string => `mixnet-${variant}`;

/** Opens the session of a variant; `runtime` tells the UI where and how it ran, when the loader knows. */
export type MixnetSessionLoader = (
  variant: MixnetVariant,
  opts: AutomixRunOptions,
) => Promise<{ session: ModelSession; runtime?: Omit<AutomixRuntimeInfo, 'inferenceMs'> }>;

/** URL of a variant's weights next to this module (static strings, so Vite emits each file as an asset). */
export function mixnetModelUrl(variant: MixnetVariant): URL {
  switch (variant) {
    case 'fp32':
      return new URL('./mixnet.fp32.onnx', import.meta.url);
    case 'fp16':
      return new URL('./mixnet.fp16.onnx', import.meta.url);
    case 'int8':
      return new URL('./mixnet.int8.onnx', import.meta.url);
  }
}

/** The browser's runner for a registry entry: its weights through the one registry loader (hash-checked cache, device self-check). */
export async function automixRunner(meta: ModelMeta): Promise<AutomixRunner> {
  const variant = mixnetVariantOf(meta);
  // Imported here: the loader brings IndexedDB, which Node scripts using this runner do not need.
  const { openRegistryModel } = await import('../../src/ml/registry-loader');
  return createMixnetRunner(variant, (v, opts) => openRegistryModel(meta, mixnetModelUrl(v).href, mixnetCheckFeeds, opts));
}

/** Which variant an entry is, from its weights' type. */
export function mixnetVariantOf(meta: ModelMeta): MixnetVariant {
  const variant = ({ float32: 'fp32', float16: 'fp16', int8: 'int8' } as const)[meta.dtype as 'float32' | 'float16' | 'int8'];
  if (!variant || meta.id !== mixnetModelId(variant)) throw new Error(`Registry entry "${meta.id}" (${meta.dtype}) is not a mixnet variant this runner knows (${MIXNET_VARIANTS.map(mixnetModelId).join(', ')}).`);
  return variant;
}

/** The graph's input for a session, and which input tracks its rows are. */
export function mixnetFeeds(input: AutomixInput): { feeds: Record<string, TensorData>; active: number[] } {
  const { data, active } = mixnetInput(input.tracks.map((t) => t.features));
  return { feeds: { [MIXNET_INPUT]: { type: 'float32', data, dims: [active.length, MIXNET_FEATURES] } }, active };
}

/** A fixed 4-track input for the per-device WebGPU/WASM self-check: distinct, plausible rows. */
export function mixnetCheckFeeds(): Record<string, TensorData> {
  const n = 4;
  const data = new Float32Array(n * MIXNET_FEATURES);
  for (let t = 0; t < n; t++) for (let c = 0; c < MIXNET_FEATURES; c++) data[t * MIXNET_FEATURES + c] = Math.sin(1.7 * t + 0.37 * c) * (c === 0 ? 6 : c >= 20 ? 20 : 2) - (c >= 20 ? 30 : 0);
  return { [MIXNET_INPUT]: { type: 'float32', data, dims: [n, MIXNET_FEATURES] } };
}

/** Settings for every input track from the graph's rows for the active ones. */
export function mixnetOutput(trackCount: number, active: readonly number[], settings: Float32Array | null): AutomixOutput {
  const tracks = Array.from({ length: trackCount }, () => ({ ...neutralTrackOutput(), gainDb: null as number | null }));
  active.forEach((t, row) => {
    const r = row * MIXNET_OUTPUTS;
    tracks[t] = {
      gainDb: settings![r],
      pan: settings![r + 1],
      eqGainsDb: [settings![r + 2], settings![r + 3], settings![r + 4], settings![r + 5]] as AutomixEqGains,
      comp: null,
    };
  });
  return clampAutomixOutput({ tracks, master: { gainDb: 0 } });
}

export function createMixnetRunner(variant: MixnetVariant, loader: MixnetSessionLoader): AutomixRunner {
  return {
    id: mixnetModelId(variant),
    async run(input: AutomixInput, opts: AutomixRunOptions = {}): Promise<AutomixOutput> {
      assertAutomixTrackCount(input.tracks.length);
      const { feeds, active } = mixnetFeeds(input);
      if (active.length === 0) return mixnetOutput(input.tracks.length, active, null);
      const { session, runtime } = await loader(variant, opts);
      if (opts.signal?.aborted) throw new CancelledError('Auto-mix cancelled');
      const started = performance.now();
      const result = await session.run(feeds);
      const inferenceMs = performance.now() - started;
      const out = result[MIXNET_OUTPUT];
      if (!out || out.type !== 'float32' || out.dims[0] !== active.length || out.dims[1] !== MIXNET_OUTPUTS) {
        throw new Error(`Auto-mix model ${mixnetModelId(variant)} returned ${out ? `${out.type} [${out.dims.join(', ')}]` : 'no "settings" output'}; expected float32 [${active.length}, ${MIXNET_OUTPUTS}].`);
      }
      if (runtime) opts.onRuntime?.({ ...runtime, inferenceMs });
      return mixnetOutput(input.tracks.length, active, out.data);
    },
  };
}

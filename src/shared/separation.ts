// Source separation's vocabulary, shared by the separation feature, its worker and the models' runners.
import type { ModelMeta } from './model-meta';

/** A separation model's registry entry (models/<folder>/meta.json), with the stems it gives and what was tested. */
export type SeparationModelMeta = ModelMeta & { task: 'separation'; stems: string[]; tested: string };

/** Which separator a job runs: the classical one, or an ONNX model with its weights' source. */
export type SeparatorSpec =
  | { kind: 'classical' }
  /** `meta` is the registry entry with its one weights file at the URL to fetch it from (the user's setting or the registry's). */
  | { kind: 'umx'; meta: ModelMeta; provider: 'auto' | 'wasm' };

/** Where a separation ran, for the panel. */
export interface SeparationRuntime {
  separator: string;
  /** 'cpu' for the classical separator (TypeScript + PFFFT), else ORT's execution provider. */
  ep: 'cpu' | 'wasm' | 'webgpu';
  fft: 'pffft' | 'fft.js';
  fallbackReason: string | null;
  fetchEvents: string[];
}

/** The longest input separated: 15 minutes of 44.1 kHz stereo is 0.3 GB of float samples and 1.3 GB of stems. */
export const MAX_SEPARATION_SECONDS = 15 * 60;
/** The shortest: under a second there is too little for the spectral medians to tell tone from hit. */
export const MIN_SEPARATION_SECONDS = 1;
/** Separation runs at this rate (the models' rate); the stems are resampled to the session's when added. */
export const SEPARATION_RATE = 44_100;

// Source separation's vocabulary, shared by the separation feature, its worker and the models' runners.

/** A separation model's registry entry (models/<folder>/meta.json), in the unified registry schema. */
export interface SeparationModelMeta {
  id: string;
  label: string;
  version: string;
  task: 'separation';
  architecture: string;
  io: { input: string; output: string };
  dtype: 'none' | 'float32' | 'float16' | 'int8' | 'q8' | 'q4';
  /** Weights; `url` absent = ships in models/<folder>/. Empty for a method with no weights. */
  files: { name: string; sha256: string; sizeBytes: number; url?: string }[];
  licence: string;
  commercialUse?: boolean;
  trainingData: string;
  /** Filled by `npm run eval:separate`: SDR and SI-SDR per stem, dB. */
  metrics: Record<string, number | string> | null;
  created: string;
  note?: string;
  /** The stems it gives, in order. */
  stems: string[];
  /** What was and was not tested with the real weights, said in the panel. */
  tested: string;
}

/** Which separator a job runs: the classical one, or an ONNX model with its weights' source. */
export type SeparatorSpec =
  | { kind: 'classical' }
  | { kind: 'umx'; modelId: string; version: string; url: string; sha256: string; sizeBytes: number; provider: 'auto' | 'wasm' };

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

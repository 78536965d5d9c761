// The separation worker's contract: one part of a song in, its stems out.
import type { ProgressCallback } from '../../shared/jobs';
import type { SeparationRuntime, SeparatorSpec } from '../../shared/separation';

export interface SeparateRequest {
  /** This part's channels (1 or 2) at sampleRate; transferred. */
  channels: Float32Array[];
  sampleRate: number;
  separator: SeparatorSpec;
  /** Length of the segments the part is processed in; a smaller one holds less in memory at once. */
  segmentSeconds: number;
  /** Which part of the song this is, for progress text. */
  part: { index: number; count: number };
}

export interface SeparatedPart {
  /** Each stem with the input's channel count and length; transferred. */
  stems: { name: string; channels: Float32Array[] }[];
  runtime: SeparationRuntime;
  segments: number;
}

export interface SeparationWorkerApi {
  separate(req: SeparateRequest, onProgress: ProgressCallback): Promise<SeparatedPart>;
}

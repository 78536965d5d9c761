// The export worker's contract: encode a master (ffmpeg.wasm) and decode the file back to check it.
import type { ProgressCallback } from '../../shared/jobs';
import type { ExportFormat, ExportTags } from '../../shared/export';

export interface ExportEncodeRequest {
  /** The mastered stereo, at the session rate; transferred, so the caller's copies are gone after the call. */
  left: Float32Array;
  right: Float32Array;
  sampleRate: number;
  format: ExportFormat;
  tags: ExportTags;
}

export interface EncodedExport {
  bytes: Uint8Array;
  mime: string;
  /** Extension without the dot. */
  ext: string;
}

export interface ExportWorkerApi {
  /** Throws EncodeError-shaped errors ({name:'EncodeError', message:'Export failed: <reason>'}). */
  encode(req: ExportEncodeRequest, onProgress: ProgressCallback): Promise<EncodedExport>;
  /**
   * MP3 from a range of the master's planar channels (transferred copies), encoded from 16-bit PCM as (b)'s native
   * encode is: the worker does the conversion, so the two halves' conversions run on both cores, not on the page.
   */
  encodeMp3(channels: Float32Array[], sampleRate: number, tags: ExportTags, onProgress: ProgressCallback): Promise<EncodedExport>;
  /** Starts ffmpeg.wasm in this worker ahead of an encode; for MP3 also a half-second warm-up encode (once per worker). */
  warm(format: ExportFormat, sampleRate: number): Promise<void>;
  /** Decodes an encoded export back to stereo at sampleRate, so loudness and true peak are measured on the file itself. */
  decodeFile(bytes: Uint8Array, fileName: string, sampleRate: number, onProgress: ProgressCallback): Promise<{ left: Float32Array; right: Float32Array }>;
}

import { UserFacingError } from './errors';

/** The export formats a master can be encoded to; every one keeps the session's sample rate. */
export type ExportFormat = 'mp3' | 'wav' | 'flac';

export interface ExportFormatInfo {
  id: ExportFormat;
  /** What the format picker shows. */
  label: string;
  /** File extension without the dot. */
  ext: string;
  mime: string;
  /** True when decoding the file back gives the exact samples (up to 24-bit quantisation). */
  lossless: boolean;
}

export const EXPORT_FORMATS: Readonly<Record<ExportFormat, ExportFormatInfo>> = {
  mp3: { id: 'mp3', label: 'MP3 320 kbps', ext: 'mp3', mime: 'audio/mpeg', lossless: false },
  wav: { id: 'wav', label: 'WAV 24-bit', ext: 'wav', mime: 'audio/wav', lossless: true },
  flac: { id: 'flac', label: 'FLAC 24-bit', ext: 'flac', mime: 'audio/flac', lossless: true },
};

export function isExportFormat(value: unknown): value is ExportFormat {
  return typeof value === 'string' && Object.hasOwn(EXPORT_FORMATS, value);
}

/** Text tags written into the file (ID3v2.3, RIFF INFO or Vorbis comments). */
export interface ExportTags {
  title?: string;
  artist?: string;
}

/** An export that could not be encoded; the message says why in words a user can act on. */
export class EncodeError extends UserFacingError {
  constructor(reason: string) {
    super(`Export failed: ${reason}`, 'export');
    this.name = 'EncodeError';
  }
}

/** MPEG-1 Layer III rates: 320 kbps exists only there, and we never resample to reach one. */
export const MP3_SAMPLE_RATES: readonly number[] = [32000, 44100, 48000];

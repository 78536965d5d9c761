// What a decode gives: the shape the media decoders return and the studio's decode worker sends back.
import type { EncodedChannels, TrackChannels } from './session';

export interface DecodedAudio {
  /** Planar channels at the requested rate (1 or 2 channels); 16-bit integers for a 16-bit WAV at that rate. */
  channels: TrackChannels;
  sampleRate: number;
  sourceRate: number;
  /** Which decoder handled it, for diagnostics; 'app' for audio made in the app (generated, separated, rendered). */
  decoder: 'wav' | 'ffmpeg' | 'app';
  /** Non-fatal problems, e.g. "NaN samples replaced with silence", "file is truncated". */
  warnings: string[];
  /** The channels in their stored form, ready for IndexedDB. */
  encoded?: EncodedChannels;
  /** Waveform peaks of the channels (min/max pairs, PEAKS_PER_SECOND per second). */
  peaks?: Float32Array;
}

/** What decode needs of a File: Blob satisfies it, and src/shared stays free of DOM types. */
export interface AudioFileSource {
  readonly size: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}

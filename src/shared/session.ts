import type { MixSettings } from './mix';
import type { MasteringSettings } from './mastering';
import type { TrackFeatures } from './features';

export const DEFAULT_SESSION_RATE = 44100;

/** What the UI needs of a track without touching its audio. */
export interface TrackMeta {
  id: string;
  name: string;
  /** The file it came from, for messages. */
  fileName: string;
  channels: 1 | 2;
  /** Frames at the session rate. */
  length: number;
  /** The source file's own rate before resampling. */
  sourceRate: number;
  /** Min/max pairs for the waveform, PEAKS_PER_SECOND per second of audio. */
  peaks: Float32Array;
}

export interface LoopRegion {
  enabled: boolean;
  start: number; // seconds
  end: number; // seconds
}

export interface SessionRecord {
  id: string;
  name: string;
  sampleRate: number;
  createdAt: number;
  updatedAt: number;
  tracks: TrackMeta[];
  mix: MixSettings;
  loop: LoopRegion;
  /** Last playhead position in seconds, so a reload lands where the user was. */
  playhead: number;
  /** Absent until the user first opens mastering. */
  mastering?: MasteringSettings;
  /** Analysis features keyed by track id: a track's audio never changes, so they are computed once. */
  features?: Record<string, TrackFeatures>;
}

/**
 * A track's planar channels (1 or 2): floats, or 16-bit integers read as k / 32768 (the samples of a 16-bit file,
 * kept so: half the memory, and read back exactly).
 */
export type TrackChannels = Float32Array[] | Int16Array[];

export function isPcm16(channels: TrackChannels): channels is Int16Array[] {
  return channels[0] instanceof Int16Array;
}

/** 16-bit integer k as the float sample k / 32768 (a power of two, so k * PCM16_STEP is that quotient exactly). */
export const PCM16_STEP = 1 / 32768;

/** A track's audio at the session rate. */
export interface TrackAudio {
  sessionId: string;
  trackId: string;
  sampleRate: number;
  channels: TrackChannels;
  /** The same channels already in their stored form (see EncodedChannels); made here when absent. */
  encoded?: EncodedChannels;
}

/** What storage needs of a Blob (src/shared stays free of DOM types). */
export interface AudioBlob {
  readonly size: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * A track's channels as IndexedDB keeps them, one Blob each: 16-bit integers (value × 32768) when
 * every sample is exactly that, as 16-bit PCM decodes, else float32. The decoder makes them in its
 * worker, so storing a track copies no audio on the main thread.
 */
export interface EncodedChannels {
  encoding: 'f32' | 'i16';
  channels: AudioBlob[];
}

export const PEAKS_PER_SECOND = 100;

// Typed messages between the main thread and the live mix-engine AudioWorklet.
import type { MixSettings } from './mix';
import type { TrackChannels } from './session';

export type ToEngine =
  | { type: 'addTrack'; id: string; channels: TrackChannels }
  | { type: 'removeTrack'; id: string }
  | { type: 'setMix'; mix: MixSettings }
  | { type: 'play'; frame: number }
  | { type: 'pause' }
  | { type: 'seek'; frame: number }
  | { type: 'loop'; region: { start: number; end: number } | null }
  /** Record the next `frames` frames of output, starting at the next `play`, for the live-vs-offline null test. */
  | { type: 'capture'; frames: number };

export interface MeterSnapshot {
  tracks: Record<string, { peakDb: number; shortTermLufs: number }>;
  master: { peakDb: number; shortTermLufs: number };
}

export type FromEngine =
  | { type: 'ready'; latencyFrames: number }
  | { type: 'position'; frame: number; playing: boolean }
  | { type: 'meters'; meters: MeterSnapshot }
  | { type: 'ended' }
  | { type: 'captured'; startFrame: number; left: Float32Array; right: Float32Array }
  | { type: 'error'; message: string };

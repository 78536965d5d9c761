// The studio's worker contracts: decode (import), render (mix, master, measure) and analysis. Other features use the
// render and analysis workers through these types, from the studio's index.
import type { MixSettings } from '../../shared/mix';
import type { ProgressCallback } from '../../shared/jobs';
import type { LoudnessReport, MasteringReport, MasteringSettings } from '../../shared/mastering';
import type { TrackFeatures } from '../../shared/features';
import type { AudioFileSource, DecodedAudio } from '../../shared/decoded-audio';

export type { AudioFileSource, DecodedAudio };

export interface DecodeWorkerApi {
  /** Throws DecodeError-shaped errors ({name:'DecodeError', message:'<file>: <reason>'}). */
  decode(file: AudioFileSource, fileName: string, targetRate: number, onProgress: ProgressCallback): Promise<DecodedAudio>;
}

export interface RenderRequest {
  sessionId: string;
  sampleRate: number;
  /** Track ids in session order; audio is read from IndexedDB by the worker. */
  trackIds: string[];
  mix: MixSettings;
  /** Optional range in frames; defaults to the whole session. */
  startFrame?: number;
  endFrame?: number;
  /** The waveform only needs peaks: skip sending ~60 MB of audio back for a 3-minute mix. */
  peaksOnly?: boolean;
  /** 'tracks': only the summed track strips (one part of a render split across workers). */
  part?: 'all' | 'tracks';
  /** With part 'tracks': the sum is posted here piece by piece (to renderMasterStreamed) and not returned. */
  stream?: TrackSumPort;
}

/** A piece of one worker's track sum, streamed to the worker that adds it to its own and runs the master bus. */
export type TrackSumChunk = { from: number; left: Float32Array; right: Float32Array } | { end: true };

/** What a streamed render needs of a MessagePort (src/shared stays free of DOM types). */
export interface TrackSumPort {
  postMessage(message: TrackSumChunk, transfer: ArrayBuffer[]): void;
  addEventListener(type: 'message', listener: (e: { data: TrackSumChunk }) => void): void;
  start(): void;
  close(): void;
}

/**
 * The master bus of a render split across two workers, streamed: this worker sums its own tracks and adds the other
 * worker's sum (renderMix with `stream`) piece by piece as it arrives, so the master bus runs while the other renders.
 */
export interface StreamedMasterRequest {
  sessionId: string;
  sampleRate: number;
  /** This worker's share of the tracks, in session order. */
  trackIds: string[];
  mix: MixSettings;
  /** Frames of the mix (the longest track). */
  endFrame: number;
  peaksOnly?: boolean;
  /** Where the other worker's track sum arrives, from frame 0 on, in order. */
  from: TrackSumPort;
}

export interface RenderResult {
  left: Float32Array;
  right: Float32Array;
  sampleRate: number;
  /** Waveform peaks of the mix (min/max pairs, PEAKS_PER_SECOND per second). */
  peaks: Float32Array;
  /** Sample peak and RMS of the whole render, in dBFS, shown so a user (and a test) can hear a fader in numbers. */
  peakDb: number;
  rmsDb: number;
}

export interface MasterRequest {
  left: Float32Array;
  right: Float32Array;
  sampleRate: number;
  settings: MasteringSettings;
  /** More headroom under the ceiling than the settings ask, e.g. after an encode measured over it. */
  extraHeadroomDb?: number;
  /** Correction of the loudness target, e.g. after the encoded file measured off target. */
  gainTrimDb?: number;
  /** Passes with the same key (same mix, same tone settings) reuse the worker's analysis. */
  analysisKey?: string;
}

export interface MasterResult {
  left: Float32Array;
  right: Float32Array;
  report: MasteringReport;
  /** The unmastered mix the request lent (transferred) to the worker, given back untouched. */
  unmastered: { left: Float32Array; right: Float32Array };
}

/** Render workers analyse too (AnalysisWorkerApi): they hold the audio of the tracks they rendered. */
export interface RenderWorkerApi extends AnalysisWorkerApi {
  /** Loads what a master or a measurement needs (the DSP kernels), so the first real job starts on a ready worker. */
  warm(): Promise<void>;
  renderMix(req: RenderRequest, onProgress: ProgressCallback): Promise<RenderResult>;
  /** This worker's tracks and the master bus, over another worker's track sum streamed in (see StreamedMasterRequest). */
  renderMasterStreamed(req: StreamedMasterRequest, onProgress: ProgressCallback): Promise<RenderResult>;
  /**
   * Masters a rendered mix for preview, A/B and export. With `input`, the unmastered mix's own
   * measurement is not made here: it runs elsewhere meanwhile (the other render worker), and this
   * asks for it once the master is done.
   */
  master(req: MasterRequest, onProgress: ProgressCallback, input?: () => Promise<LoudnessReport>): Promise<MasterResult>;
  /** Full loudness and true-peak report of a stereo signal, or of a mono one when `right` is null (e.g. an exported file decoded back). */
  measure(left: Float32Array, right: Float32Array | null, sampleRate: number): Promise<LoudnessReport>;
}

export interface AnalysisWorkerApi {
  /** Features of each track (keyed by track id), read from IndexedDB; throws when a track has no stored audio. */
  analyseTracks(req: { sessionId: string; trackIds: string[] }, onProgress: ProgressCallback): Promise<Record<string, TrackFeatures>>;
}

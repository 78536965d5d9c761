// Typed contracts of every worker. The bridge wraps them with comlink; the workers implement them.
import type { MixSettings } from './mix';
import type { ProgressCallback } from './jobs';
import type { LoudnessReport, MasteringReport, MasteringSettings } from './mastering';
import type { ExportFormat, ExportTags } from './export';
import type { TrackFeatures } from './features';
import type { AutomixInput, AutomixMlSettings, AutomixOutput, AutomixRuntimeInfo } from './automix';
import type { EncodedChannels, TrackChannels } from './session';

export interface DecodedAudio {
  /** Planar channels at the requested rate (1 or 2 channels); 16-bit integers for a 16-bit WAV at that rate. */
  channels: TrackChannels;
  sampleRate: number;
  sourceRate: number;
  /** Which decoder handled it, for diagnostics. */
  decoder: 'wav' | 'ffmpeg';
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

export interface AnalysisWorkerApi {
  /** Features of each track (keyed by track id), read from IndexedDB; throws when a track has no stored audio. */
  analyseTracks(req: { sessionId: string; trackIds: string[] }, onProgress: ProgressCallback): Promise<Record<string, TrackFeatures>>;
}

export interface MlWorkerApi {
  /**
   * Runs a registry model on the tracks' features. Neural models load their weights (cached,
   * hash-checked) and run on the provider their self-check chose; `runtime` says which.
   */
  runAutomix(
    req: { modelId: string; input: AutomixInput; ml: AutomixMlSettings },
    onProgress: ProgressCallback,
  ): Promise<{ output: AutomixOutput; runtime: AutomixRuntimeInfo | null }>;
}

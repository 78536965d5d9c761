// The podcast worker's contract: the bridge wraps it with comlink, workers/podcast implements it.
import type { ProgressCallback } from '../../shared/jobs';
import type { ChunkClaim, ChunkSpec } from './analyse';
import type { DescribedEpisode } from './describe';
import type { ChunkAnalysis, EpisodeAnalysis } from './episode';
import type { EpisodeStructure } from './segments';
import type { EpisodeSource } from './source';

/**
 * Decodes bytes [byteStart, byteEnd) of the episode (whole MP3 frames) to `channels` planar channels at `rate`
 * (mono and stereo as ffmpeg's `-ac 1` / `-ac 2` make them): the page's decoder.
 */
export type PageSliceDecode = (byteStart: number, byteEnd: number, rate: number, channels: 1 | 2) => Promise<Float32Array[]>;

export interface AnalyseRequest {
  /** The episode file; workers read it in place (a File is shared with the worker, not copied). */
  file: Blob;
  fileName: string;
  source: EpisodeSource;
  chunks: ChunkSpec[];
}

export interface ReelRenderRequest {
  file: Blob;
  fileName: string;
  source: EpisodeSource;
  /** Source ranges in reel order (already merged where they touch). */
  clips: { start: number; end: number }[];
  /** Output rate and channels of the reel. */
  rate: number;
  channels: 1 | 2;
  crossfadeS: number;
  intro?: { file: Blob; fileName: string } | null;
  outro?: { file: Blob; fileName: string } | null;
}

export interface ReelAudio {
  channels: Float32Array[];
  rate: number;
  /** Seconds of the intro and outro as decoded (0 when absent). */
  introS: number;
  outroS: number;
  /** Peaks for the reel's waveform: min/max pairs, PEAKS_PER_SECOND per second. */
  peaks: Float32Array;
  warnings: string[];
}

export interface PodcastWorkerApi {
  /** Reads the file's layout (MP3 frame index, WAV layout or ffprobe); DecodeError-shaped errors name the file. */
  describe(file: Blob, fileName: string, onProgress: ProgressCallback): Promise<DescribedEpisode>;
  /**
   * Decodes and analyses chunks one after another (16 kHz mono, features, voice activity). With `pageDecode`
   * (the page's decodeAudioData, see src/bridge/page-decode.ts) an MP3's slices are decoded by the browser.
   * With `claim` the workers share one queue of req.chunks (each takes the next when it is free); without it
   * this worker analyses all of req.chunks.
   */
  analyse(req: AnalyseRequest, onProgress: ProgressCallback, pageDecode?: PageSliceDecode, claim?: ChunkClaim): Promise<ChunkAnalysis[]>;
  /** Joins chunk analyses into the episode's timeline, classifies it and cuts candidate segments. */
  assemble(chunks: ChunkAnalysis[], durationS: number, onProgress: ProgressCallback): Promise<{ analysis: EpisodeAnalysis; structure: EpisodeStructure }>;
  /** Decodes the chosen ranges at full quality and joins them (with intro and outro) into the reel. */
  /** Decodes the clips it has not kept (with `pageDecode`, MP3 clips by the page's decoder) and joins them. */
  renderReel(req: ReelRenderRequest, onProgress: ProgressCallback, pageDecode?: PageSliceDecode): Promise<ReelAudio>;
  /** Seconds of an intro/outro file (decoding it whole), for planning before the reel is rendered. */
  clipDuration(file: Blob, fileName: string): Promise<number>;
  /** Starts ffmpeg.wasm and its MP3 encoder in this worker ahead of an encode (a half-second warm-up encode). */
  warmMp3Encoder(rate: number, channels: 1 | 2): Promise<void>;
  /** Encodes mastered channels (1 or 2) to MP3 320 kb/s CBR; the channels are transferred. */
  encodeMp3(channels: Float32Array[], rate: number, tags: { title?: string; artist?: string }, onProgress: ProgressCallback): Promise<Uint8Array>;
  /** Decodes an encoded file back and measures it (BS.1770 loudness over its own channels, true peak). */
  measureFile(bytes: Uint8Array, fileName: string, rate: number, onProgress: ProgressCallback): Promise<{ integratedLufs: number; truePeakDb: number; channels: number }>;
}

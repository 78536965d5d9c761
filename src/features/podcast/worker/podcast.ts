// Podcast worker: reads an episode in place, analyses chunks of it, cuts candidates, and renders reels.
// Two of these analyse in parallel (a chunk list each); one more renders reels and keeps the clips it
// decoded, so the re-render after an edit decodes only what changed. Cancelling terminates the worker.
import * as Comlink from 'comlink';
import { configureOrtForBrowser } from '../../../ml/browser';
import { decodeBlobToPcm, decodeToPcm, encodeAudio, FfmpegDecodeError, probeBlob, warmMp3Encoder } from '../../../media/ffmpeg';
import { measureLoudness } from '../../../dsp/loudness';
import { dspKernels } from '../../../media/dsp-kernels';
import { computePeaks } from '../../../dsp/peaks';
import { interleavePcm16 } from '../../../dsp/pcm16';
import { PEAKS_PER_SECOND } from '../../../shared/session';
import { DecodeError } from '../../../shared/errors';
import { analyseClaimed, chunkQueue, decodeChunk, decodeRange, type ChunkClaim, type ChunkSpec, type SliceDecoder } from '../analyse';
import { blobReader, describeEpisode } from '../describe';
import { assembleEpisode, type ChunkAnalysis } from '../episode';
import { segmentEpisode } from '../segments';
import { sliceFor, type EpisodeSource } from '../source';
import { joinWithCrossfades } from '../reel-audio';
import type { PageSliceDecode, PodcastWorkerApi, ReelAudio } from '../contract';
import { openSileroVad, SILERO_VAD_ID } from '../../../../models/silero-vad/runner';
import { modelMeta } from '../../../../models/registry';
import { loadPffftAutocorrelation, loadPffftPower } from '../../../dsp/pffft';
import { FEATURE_FFT_SIZES, type FeatureTransforms } from '../features';
import { wholePercents, type ProgressCallback } from '../../../shared/jobs';

configureOrtForBrowser();

function vadSession() {
  return openSileroVad(modelMeta(SILERO_VAD_ID, 'vad'));
}

// PFFFT (WASM SIMD) for the features' spectra and pitch autocorrelation: they took 7.7 CPU-s of a 1-hour episode's
// analysis with fft.js. fft.js if it cannot load (same features within float32 rounding, tested).
let transformsPromise: Promise<FeatureTransforms> | null = null;
function featureTransforms(): Promise<FeatureTransforms> {
  const wasmUrl = new URL('../../../../node_modules/@echogarden/pffft-wasm/dist/simd/pffft.wasm', import.meta.url).href;
  transformsPromise ??= Promise.all([loadPffftPower(FEATURE_FFT_SIZES.spectrum, wasmUrl), loadPffftAutocorrelation(FEATURE_FFT_SIZES.autocorrelation, wasmUrl)])
    .then(([spectrum, autocorrelation]) => ({ spectrum, autocorrelation }))
    .catch((e: unknown) => {
      console.warn('PFFFT did not load; the podcast features use fft.js:', e);
      return {};
    });
  return transformsPromise;
}

function reporter(onProgress: ProgressCallback): (fraction: number, stage: string) => void {
  const report = wholePercents(onProgress);
  return (fraction, stage) => report({ fraction, stage });
}

/** ffmpeg errors become DecodeErrors naming the file. */
function named<T>(fileName: string, run: () => Promise<T>): Promise<T> {
  return run().catch((e: unknown) => {
    if (e instanceof FfmpegDecodeError) {
      console.warn(`ffmpeg could not decode ${fileName}:`, e.log.slice(-8).join('\n'));
      throw new DecodeError(fileName, e.reason);
    }
    throw e;
  });
}

function ffmpegSliceDecoder(file: Blob, source: EpisodeSource, onProgress?: (f: number) => void): SliceDecoder {
  return async (slice, rate, channels) => {
    const input = source.kind === 'ffmpeg' ? file : file.slice(slice.byteStart, slice.byteEnd);
    const pcm = await decodeBlobToPcm({ input, inputArgs: slice.inputArgs, rate, channels }, onProgress);
    return { channels: pcm.channels, warnings: pcm.warnings };
  };
}

/**
 * MP3 slices are decoded by the page (decodeAudioData: native code, ~3× faster than ffmpeg.wasm here, see
 * src/bridge/page-decode.ts) when it lends its decoder; anything else, and any slice the browser cannot read in
 * full, goes to ffmpeg.wasm, which also says which frames were damaged.
 * A WebCodecs AudioDecoder path was measured too and dropped: alone it decoded 300 s of a 128 kb/s MP3 in 1.6–1.7 s
 * against 2.3–2.8 s for ffmpeg.wasm, but with its per-frame callbacks and a JS resampler it took the hour's analysis
 * to 69.6 s against 50.1 s for ffmpeg.wasm in the same conditions.
 */
function sliceDecoder(file: Blob, source: EpisodeSource, onProgress?: (f: number) => void, pageDecode?: PageSliceDecode): SliceDecoder {
  const viaFfmpeg = ffmpegSliceDecoder(file, source, onProgress);
  if (!pageDecode || source.kind !== 'mp3') return viaFfmpeg;
  return async (slice, rate, channels) => {
    const frames = countFrames(source, slice.byteStart, slice.byteEnd);
    const expected = Math.round((frames * source.index.samplesPerFrame * rate) / source.sampleRate);
    try {
      const decoded = await pageDecode(slice.byteStart, slice.byteEnd, rate, channels);
      // Concealed or skipped frames shorten the output: let ffmpeg decode it and name the damage.
      const tolerance = Math.ceil((2 * source.index.samplesPerFrame * rate) / source.sampleRate);
      if (decoded[0].length >= expected - tolerance) return { channels: decoded, warnings: [], decoder: 'page' };
    } catch {
      // The browser refused the slice: ffmpeg below reports why.
    }
    return viaFfmpeg(slice, rate, channels);
  };
}

// The reel worker's decoded clips, by file and range: an edit re-decodes only the clips it changed.
let clipCache: { fileKey: string; clips: Map<string, Float32Array[]>; bytes: number } | null = null;
// About 8 minutes of stereo at 44.1 kHz: a 5-minute reel and the clips swapped out of it.
const CLIP_CACHE_BYTES = 160 * 1024 * 1024;

function fileKey(file: Blob, fileName: string): string {
  return `${fileName}|${file.size}|${(file as File).lastModified ?? 0}`;
}

/**
 * Decodes several ranges of an MP3 or PCM WAV in one ffmpeg run: their slices (each with its pre-roll) are joined
 * into one Blob, decoded once, and the output is split at the slices' known sample counts. One run instead of
 * one per clip saves ffmpeg's start-up (~0.1–0.25 s each, measured) for every clip of a reel.
 */
async function decodeRanges(
  file: Blob,
  source: EpisodeSource,
  ranges: { start: number; end: number }[],
  rate: number,
  channels: 1 | 2,
  pageDecode?: PageSliceDecode,
): Promise<{ parts: Float32Array[][]; warnings: string[] }> {
  if (pageDecode && source.kind === 'mp3') {
    // The page's native decoder, a clip at a time (in parallel on its decoder threads): no ffmpeg core to start in
    // this worker. A clip it cannot read in full goes to ffmpeg.wasm (sliceDecoder's fallback), which names the damage.
    const decoder = sliceDecoder(file, source, undefined, pageDecode);
    const decoded = await Promise.all(ranges.map((r) => decodeRange(decoder, source, r.start, r.end, rate, channels)));
    return { parts: decoded.map((d) => d.channels.map((c) => (c.byteOffset === 0 && c.length === c.buffer.byteLength / 4 ? c : c.slice()))), warnings: decoded.flatMap((d) => d.warnings) };
  }
  const decoder = sliceDecoder(file, source);
  if (source.kind === 'ffmpeg') {
    // One decode per clip: ffmpeg seeks in the containers it indexes itself.
    const parts: Float32Array[][] = [];
    const warnings: string[] = [];
    for (const r of ranges) {
      const d = await decodeRange(decoder, source, r.start, r.end, rate, channels);
      parts.push(d.channels);
      warnings.push(...d.warnings);
    }
    return { parts, warnings };
  }
  const slices = ranges.map((r) => sliceFor(source, r.start, r.end));
  // Source-rate samples each slice decodes to: whole frames of an MP3, whole sample frames of PCM.
  const sourceSamples = slices.map((s) => (source.kind === 'mp3' ? countFrames(source, s.byteStart, s.byteEnd) * source.index.samplesPerFrame : (s.byteEnd - s.byteStart) / source.blockAlign));
  const joined = new Blob(slices.map((s) => file.slice(s.byteStart, s.byteEnd)));
  const pcm = await decodeBlobToPcm({ input: joined, inputArgs: slices[0].inputArgs, rate, channels });
  const parts: Float32Array[][] = [];
  let cum = 0;
  slices.forEach((s, k) => {
    const from = Math.round((cum * rate) / source.sampleRate);
    cum += sourceSamples[k];
    const drop = Math.round((s.dropSamples * rate) / source.sampleRate);
    const keep = Math.round((Math.min(ranges[k].end, source.durationS) - ranges[k].start) * rate);
    parts.push(
      pcm.channels.map((c) => {
        const x = new Float32Array(Math.max(0, keep));
        const a = Math.min(c.length, from + drop);
        x.set(c.subarray(a, Math.min(c.length, a + keep)));
        return x;
      }),
    );
  });
  return { parts, warnings: pcm.warnings };
}

/** Frames of an indexed MP3 between two frame-aligned byte offsets. */
function countFrames(source: Extract<EpisodeSource, { kind: 'mp3' }>, byteStart: number, byteEnd: number): number {
  const o = source.index.offsets;
  const find = (x: number) => {
    let lo = 0;
    let hi = o.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (o[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return find(byteEnd) - find(byteStart);
}

export const podcastWorker: PodcastWorkerApi = {
  async describe(file, fileName, onProgress) {
    const report = reporter(onProgress);
    report(0, 'reading the file');
    return named(fileName, () =>
      describeEpisode(
        blobReader(file),
        fileName,
        async () => {
          const p = await probeBlob(file);
          return { durationS: p.durationS, sampleRate: p.sampleRate, channels: p.channelCount, codec: p.codec };
        },
        (f) => report(f, 'indexing the file'),
      ),
    );
  },

  async analyse(req, onProgress, pageDecode, claim) {
    const report = reporter(onProgress);
    report(0, 'loading the decoder and the voice-activity model');
    const ready = Promise.all([vadSession(), featureTransforms()]).then(([model, transforms]) => ({ model, transforms }));
    // Without a shared queue this worker takes the request's chunks in order.
    const own = chunkQueue(req.chunks);
    const next: ChunkClaim = claim ?? (async () => own());
    // With a shared queue req.chunks is the whole episode: progress is this worker's share of it, summed by the page.
    const n = req.chunks.length;
    let done = 0;
    const decode = (chunk: ChunkSpec) => named(req.fileName, () => decodeChunk(sliceDecoder(req.file, req.source, (f) => report((done + 0.7 * f) / n, 'decoding'), pageDecode), req.source, chunk));
    const out = await named(req.fileName, () => analyseClaimed(next, decode, ready, () => report(++done / n, 'analysing')));
    const buffers = out.flatMap((a) => [a.levelDb, a.flatness, a.centroidHz, a.flux, a.hfRatio, a.stability, a.pitchHz, a.voicing, a.speechProb].map((x) => x.buffer as ArrayBuffer));
    return Comlink.transfer(out, buffers);
  },

  async assemble(chunks, durationS, onProgress) {
    const report = reporter(onProgress);
    report(0.1, 'classifying');
    const analysis = assembleEpisode(chunks, durationS);
    report(0.5, 'cutting candidate segments');
    const structure = segmentEpisode(analysis);
    report(1, 'done');
    const a = analysis;
    return Comlink.transfer({ analysis, structure }, [a.levelDb, a.flatness, a.centroidHz, a.flux, a.hfRatio, a.stability, a.pitchHz, a.voicing, a.speechProb, a.classes].map((x) => x.buffer as ArrayBuffer));
  },

  async renderReel(req, onProgress, pageDecode) {
    const report = reporter(onProgress);
    const key = fileKey(req.file, req.fileName);
    if (clipCache?.fileKey !== key) clipCache = { fileKey: key, clips: new Map(), bytes: 0 };
    const cache = clipCache;
    const rangeKey = (r: { start: number; end: number }) => `${r.start.toFixed(4)}-${r.end.toFixed(4)}@${req.rate}x${req.channels}`;
    const missing = req.clips.filter((r) => !cache.clips.has(rangeKey(r)));
    const warnings: string[] = [];
    if (missing.length) {
      report(0.05, `decoding ${missing.length} clip${missing.length === 1 ? '' : 's'}`);
      const { parts, warnings: w } = await named(req.fileName, () => decodeRanges(req.file, req.source, missing, req.rate, req.channels, pageDecode));
      warnings.push(...w);
      missing.forEach((r, k) => {
        cache.clips.set(rangeKey(r), parts[k]);
        cache.bytes += parts[k].reduce((s, c) => s + c.byteLength, 0);
      });
    }
    report(0.7, 'joining');
    const decodeWhole = async (clip: { file: Blob; fileName: string }) => {
      const pcm = await named(clip.fileName, () => decodeBlobToPcm({ input: clip.file, rate: req.rate, channels: req.channels }));
      warnings.push(...pcm.warnings.map((w) => `${clip.fileName}: ${w}`));
      return pcm.channels;
    };
    const intro = req.intro ? await decodeWhole(req.intro) : null;
    const outro = req.outro ? await decodeWhole(req.outro) : null;
    const parts = [...(intro ? [intro] : []), ...req.clips.map((r) => cache.clips.get(rangeKey(r))!), ...(outro ? [outro] : [])];
    const channels = parts.length ? joinWithCrossfades(parts, Math.round(req.crossfadeS * req.rate)) : Array.from({ length: req.channels }, () => new Float32Array(0));
    // Keep the cache bounded: forget clips this reel does not use once it grows past its budget.
    if (cache.bytes > CLIP_CACHE_BYTES) {
      const keep = new Set(req.clips.map(rangeKey));
      for (const [k, v] of cache.clips) {
        if (keep.has(k)) continue;
        cache.clips.delete(k);
        cache.bytes -= v.reduce((s, c) => s + c.byteLength, 0);
      }
    }
    report(1, 'done');
    const result: ReelAudio = {
      channels,
      rate: req.rate,
      introS: intro ? intro[0].length / req.rate : 0,
      outroS: outro ? outro[0].length / req.rate : 0,
      peaks: computePeaks(channels, req.rate, PEAKS_PER_SECOND),
      warnings: [...new Set(warnings)],
    };
    return Comlink.transfer(result, [...channels.map((c) => c.buffer as ArrayBuffer), result.peaks.buffer as ArrayBuffer]);
  },

  warmMp3Encoder(rate, channels) {
    return warmMp3Encoder(rate, channels);
  },

  async encodeMp3(channels, rate, tags, onProgress) {
    const report = reporter(onProgress);
    const bytes = await encodeAudio(interleavePcm16(channels), rate, 'mp3', tags, (f) => report(f, 'encoding MP3 320k'));
    return Comlink.transfer(bytes, [bytes.buffer as ArrayBuffer]);
  },

  async measureFile(bytes, fileName, rate, onProgress) {
    const report = reporter(onProgress);
    // Through 16-bit samples: half the memory of a float decode, and the same loudness and true peak to 0.01 dB.
    const pcm = await named(fileName, () => decodeToPcm(bytes, fileName, rate, (f) => report(0.8 * f, 'decoding the export'), undefined, 's16'));
    report(0.9, 'measuring');
    await dspKernels();
    // A mono file is measured as mono: BS.1770 sums the channels it has, so the mono target is its own (−19 LUFS).
    const m = measureLoudness(pcm.channels, rate);
    return { integratedLufs: m.integratedLufs, truePeakDb: m.truePeakDb, channels: pcm.channels.length };
  },

  async clipDuration(file, fileName) {
    const p = await named(fileName, () => probeBlob(file));
    if (!p.durationS) throw new DecodeError(fileName, 'its length could not be read');
    return p.durationS;
  },
};


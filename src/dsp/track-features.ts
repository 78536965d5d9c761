// Per-track analysis for auto-mix: loudness, dynamics, spectrum, stereo image and activity of one
// track alone, the TrackFeatures every mixing model reads (src/shared/features.ts).
//
// What each field means here (units, windows):
// - integratedLufs: BS.1770-4 gated loudness of the track at its own rate (LUFS); -Infinity if nothing passes the −70 LUFS gate.
// - shortTermP10/P50/P95: percentiles (nearest rank) of 3 s short-term loudness centred on each active 100 ms block (LUFS).
// - peakDb: sample peak of the whole track over all channels (dBFS).
// - crestDb: sample peak over RMS of all channels' samples in active blocks (dB; a sine gives 3.01).
// - spectralCentroidHz: magnitude-weighted centroid of each active STFT frame, averaged over those frames (Hz).
// - spectralTiltDbPerOctave: least-squares slope of the mean power spectrum of active frames (dB) against log2 f over 50 Hz–8 kHz, bins weighted 1/f so each octave counts equally; white noise ≈ 0, pink ≈ −3.
// - bandEnergiesDb: power of the mean active spectrum per FEATURE_BANDS_HZ band over its total power (dB, floored at −120); the analysis rate is 22.05 kHz, so the top band stops at 11.025 kHz.
// - stereoWidth: side/mid energy ratio, S = (L−R)/2 over M = (L+R)/2, on active blocks (0 for mono, capped at 100 when M vanishes).
// - stereoCorrelation: Σ L·R / √(Σ L² · Σ R²) on active blocks (1 for mono or silence, 0 when only one side plays).
// - stereoBalance: (Σ R² − Σ L²)/(Σ R² + Σ L²) on active blocks (0 for mono or silence): where a pan knob has put the track.
// - activity: fraction of 100 ms blocks active, a block being active when the 400 ms momentary loudness centred on it is above −50 LUFS.
// - melMeanDb: mean over active frames of the log-mel spectrum (src/dsp/mel.ts, dB floored at −120).
//
// When no block is active but the track is not digitally silent, the "active" statistics use the
// whole track. A silent track gives finite defaults (LUFS percentiles −70, peak −120 dB, crest 0,
// centroid 0, tilt 0, bands and mel −120 dB, width 0, correlation 1, balance 0, activity 0) and only
// integratedLufs = -Infinity, as BS.1770 defines it.
//
// Speed: one pass over the original channels, 100 ms block by block, gathers the loudness meter's K-weighted energies,
// the level and image sums and the mono downmix; the spectral part runs on the downmix resampled to
// SPECTROGRAM.sampleRate, streamed frame by frame, and frames that the active statistics leave out are not transformed.
// With the WebAssembly SIMD kernels (src/dsp/kernels.ts; the analysis worker and the render workers load them), that
// pass streams chunk by chunk through the kernels, with the half-band, and each frame's spectrum work is one kernel
// call; the TypeScript path computes the same features (tested against the frozen reference) and is the fallback.
import { CancelledError } from '../shared/errors';
import { FEATURE_BANDS_HZ, SPECTROGRAM, type TrackFeatures } from '../shared/features';
import { kWeightingCoefficients, KWeightingFilter, loudnessFromMeanSquare, LOUDNESS_OFFSET_DB, StereoKWeightingFilter } from './k-weighting';
import { FRAME_SCRATCH_BYTES, type DspKernels } from './kernels';
import { channelWeightsFor, loudnessPowersFromHops, meterHops, type MeterHops } from './loudness';
import { melFilterbank, melRuns, MEL_FLOOR_DB, powerToDb, type MelRuns } from './mel';
import { decimateByTwo, FEATURE_HALF_BAND } from './halfband';
import { resample } from './resample';
import { pcm16ToFloat32 } from './pcm16';
import { forEachPowerFrame, frameCount, hannPowerScales, type PowerFft } from './stft';

/** Bump when any feature's definition changes: cached features of older versions are recomputed. */
export const TRACK_FEATURES_VERSION = 2;

/** Momentary loudness above which a 100 ms block counts as the track playing. */
export const ACTIVE_MOMENTARY_LUFS = -50;
/** Finite stand-ins for the log of silence. */
export const SILENT_LUFS = -70;
export const SILENT_DB = -120;
const SILENT_POWER = Math.pow(10, SILENT_DB / 10);
const MAX_STEREO_WIDTH = 100;
const TILT_LOW_HZ = 50;
/** Below the passband edges of the half-band (~9.8 kHz) and resample() (10.4 kHz), so no roll-off bends the fit. */
const TILT_HIGH_HZ = 8_000;

const BLOCKS_PER_SECOND = 10;
const MOMENTARY_BLOCKS = 4;
const SHORT_TERM_BLOCKS = 30;
/** Momentary (4 blocks) and short-term (30 blocks) windows end this many blocks after the block they centre on. */
const MOMENTARY_CENTRE_LAG = 2;
const SHORT_TERM_CENTRE_LAG = 15;

export interface AnalyseTrackOptions {
  /** An AbortSignal; typed structurally because src/dsp compiles without the DOM lib. */
  signal?: { readonly aborted: boolean };
  /** Fraction done (0…1) after each stage. */
  onProgress?: (fraction: number) => void;
  /** The STFT's FFT (SPECTROGRAM.fftSize points): fft.js when absent; the analysis worker loads PFFFT. */
  fft?: PowerFft;
  /**
   * The WebAssembly SIMD kernels (src/dsp/kernels.ts) for the pass over the samples and the half-band (mono and stereo
   * tracks at twice the analysis rate) and, with PFFFT, for the STFT frames: the K-weighting and level sums in the same
   * double precision, float32 SIMD for the downmix, the half-band and the frames.
   */
  kernels?: DspKernels;
}

/**
 * The features of one track stored as 16-bit PCM (x / 32768), as the studio keeps most tracks: with the kernels, the
 * integers are widened in their memory, so no float copy of the track is made outside it.
 */
export function analyseTrackPcm16(channels: Int16Array[], sampleRate: number, opts: AnalyseTrackOptions = {}): TrackFeatures {
  if (opts.kernels && kernelsCanScan(channels.length, sampleRate, SPECTROGRAM.sampleRate)) return analyseTrack(channels, sampleRate, opts);
  return analyseTrack(channels.map(pcm16ToFloat32), sampleRate, opts);
}

/** The features of one track (planar channels, 1 or 2 expected; more are downmixed, the first two give the stereo image). */
export function analyseTrack(channels: Float32Array[], sampleRate: number, opts?: AnalyseTrackOptions): TrackFeatures;
/** 16-bit channels only where the kernels scan them (see analyseTrackPcm16). */
export function analyseTrack(channels: Float32Array[] | Int16Array[], sampleRate: number, opts?: AnalyseTrackOptions): TrackFeatures;
export function analyseTrack(channels: Float32Array[] | Int16Array[], sampleRate: number, opts: AnalyseTrackOptions = {}): TrackFeatures {
  if (channels.length === 0) throw new RangeError('A track needs at least one channel');
  const frames = channels[0].length;
  if (channels.some((ch) => ch.length !== frames)) throw new RangeError('All channels must have the same length');
  const { signal, onProgress } = opts;
  const checkAbort = (): void => {
    if (signal?.aborted) throw new CancelledError('Track analysis cancelled');
  };
  checkAbort();

  // measureLoudness's series without its true peak (oversampling would cost ~20× the K-weighting), from a pass over
  // the samples that also gathers the level and image sums and the downmix.
  const hops = meterHops(frames, sampleRate);
  const { sampleRate: analysisRate } = SPECTROGRAM;
  const pcm16 = channels[0] instanceof Int16Array;
  const withKernels = opts.kernels !== undefined && kernelsCanScan(channels.length, sampleRate, analysisRate);
  if (pcm16 && !withKernels) throw new RangeError('16-bit channels need the kernels, one or two channels and twice the analysis rate; see analyseTrackPcm16');
  const scan =
    opts.kernels && withKernels
      ? scanWithKernels(channels, sampleRate, analysisRate, hops, checkAbort, opts.kernels)
      : scanChannels(channels as Float32Array[], sampleRate, analysisRate, hops, checkAbort);
  const loudness = loudnessPowersFromHops(scan.hopEnergy, hops);
  onProgress?.(0.3);
  const blocks = hops.count;

  const activeThreshold = powerOfLoudness(ACTIVE_MOMENTARY_LUFS);
  const active = new Uint8Array(blocks);
  let activeBlocks = 0;
  for (let k = 0; k < blocks; k++) {
    if (loudness.momentaryPower[centredWindow(k, MOMENTARY_CENTRE_LAG, MOMENTARY_BLOCKS, blocks)] > activeThreshold) {
      active[k] = 1;
      activeBlocks++;
    }
  }
  // A quiet but audible track is still described, over all of it, rather than by silence defaults.
  const useAll = activeBlocks === 0;
  const counts = (k: number): boolean => useAll || active[k] === 1;

  const shortTerm: number[] = [];
  for (let k = 0; k < blocks; k++) {
    const power = loudness.shortTermPower[centredWindow(k, SHORT_TERM_CENTRE_LAG, SHORT_TERM_BLOCKS, blocks)];
    if (counts(k) && power > 0) shortTerm.push(power);
  }
  // Loudness is monotonic in power, so percentiles are taken on powers and converted after.
  shortTerm.sort((a, b) => a - b);
  const percentile = (p: number): number => (shortTerm.length ? loudnessFromMeanSquare(shortTerm[Math.round((shortTerm.length - 1) * p)]) : SILENT_LUFS);

  const level = levelAndImage(scan, hops, channels.length, counts);
  onProgress?.(0.4);

  const spectral = spectralFeatures(scan.analysed(), blocks, counts, signal, opts.fft, opts.kernels);
  onProgress?.(1);

  return {
    version: TRACK_FEATURES_VERSION,
    integratedLufs: loudness.integratedLufs,
    shortTermP10: percentile(0.1),
    shortTermP50: percentile(0.5),
    shortTermP95: percentile(0.95),
    peakDb: level.peak > 0 ? Math.max(SILENT_DB, 20 * Math.log10(level.peak)) : SILENT_DB,
    crestDb: level.activePeak > 0 && level.activeMeanSquare > 0 ? 20 * Math.log10(level.activePeak) - 10 * Math.log10(level.activeMeanSquare) : 0,
    spectralCentroidHz: spectral.centroidHz,
    spectralTiltDbPerOctave: spectral.tiltDbPerOctave,
    bandEnergiesDb: spectral.bandEnergiesDb,
    stereoWidth: level.width,
    stereoCorrelation: level.correlation,
    stereoBalance: level.balance,
    activity: blocks > 0 ? activeBlocks / blocks : 0,
    melMeanDb: spectral.melMeanDb,
  };
}

/** The downmix at SPECTROGRAM.sampleRate that the spectral features read, by the same path analyseTrack takes. */
export function analysisSignal(channels: Float32Array[], sampleRate: number, kernels?: DspKernels): Float32Array {
  const hops = meterHops(channels[0].length, sampleRate);
  const rate = SPECTROGRAM.sampleRate;
  const scan = kernels && kernelsCanScan(channels.length, sampleRate, rate) ? scanWithKernels(channels, sampleRate, rate, hops, () => {}, kernels) : scanChannels(channels, sampleRate, rate, hops, () => {});
  return scan.analysed();
}

/** Index of the window centred on block k; near the start, the first full window (a meter's warm-up is not the track). */
function centredWindow(k: number, lag: number, length: number, blocks: number): number {
  return Math.max(0, Math.min(blocks - 1, Math.max(k + lag, length - 1)));
}

function powerOfLoudness(lufs: number): number {
  return Math.pow(10, (lufs - LOUDNESS_OFFSET_DB) / 10);
}

/** Hops per abort check. */
const HOPS_PER_CHECK = 10;

/** What loudness, level and image need from the samples, per 100 ms block (the meter's hops), and the downmix. */
interface ChannelScan {
  /** BS.1770 channel-weighted K-weighted energy of each block. */
  hopEnergy: Float64Array;
  /** Largest |sample| of each block over all channels. */
  blockPeak: Float64Array;
  /** Σ x² of each block over all channels. */
  blockSquares: Float64Array;
  /** Σ L², Σ R² and Σ L·R of each block over the first two channels (left empty for mono). */
  blockLL: Float64Array;
  blockRR: Float64Array;
  blockLR: Float64Array;
  /** Largest |sample| after the last whole block (under 100 ms, outside every block). */
  tailPeak: number;
  /**
   * The mean of the channels at SPECTROGRAM.sampleRate: the spectral features describe what the track sounds like
   * summed to mono. Computed on demand, after the level statistics.
   */
  analysed: () => Float32Array;
}

/**
 * One pass over the channels, block by block: the K-weighting, then peaks, sums of squares and the downmix while the
 * block is still in cache. Mono and stereo, nearly every track, each have their own loop.
 */
function emptyScan(blocks: number, stereo: boolean, analysed: () => Float32Array): ChannelScan {
  return {
    hopEnergy: new Float64Array(blocks),
    blockPeak: new Float64Array(blocks),
    blockSquares: new Float64Array(blocks),
    blockLL: new Float64Array(stereo ? blocks : 0),
    blockRR: new Float64Array(stereo ? blocks : 0),
    blockLR: new Float64Array(stereo ? blocks : 0),
    tailPeak: 0,
    analysed,
  };
}

/** Largest |sample| of the channels from `tail` on. */
function peakFrom(channels: Float32Array[], tail: number): number {
  let peak = 0;
  for (const ch of channels) for (let i = tail; i < ch.length; i++) peak = Math.max(peak, Math.abs(ch[i]));
  return peak;
}

/**
 * The TypeScript scan. The downmix is in double precision: Node's V8 runs the unrolled half-band on a Float64Array
 * about twice as fast as on a Float32Array (Chromium's, at about the same speed).
 */
function scanChannels(channels: Float32Array[], sampleRate: number, analysisRate: number, hops: MeterHops, checkAbort: () => void): ChannelScan {
  const blocks = hops.count;
  const frames = channels[0].length;
  const mono = new Float64Array(frames);
  const scan = emptyScan(blocks, channels.length >= 2, () => toAnalysisRate(mono, sampleRate, analysisRate));
  const scanBlock =
    channels.length === 1 ? monoScanner(channels[0], sampleRate, scan, mono) : channels.length === 2 ? stereoScanner(channels[0], channels[1], sampleRate, scan, mono) : multiChannelScanner(channels, sampleRate, scan, mono);
  for (let k = 0; k < blocks; k++) {
    if (k % HOPS_PER_CHECK === 0) checkAbort();
    scanBlock(k, hops.start(k), hops.start(k + 1));
  }
  // Samples after the last whole block still count for the peak and the spectrum.
  const tail = hops.start(blocks);
  scan.tailPeak = peakFrom(channels, tail);
  downmix(channels, mono, tail, frames);
  return scan;
}

/** Hops per chunk of the kernels' streamed scan: small enough to stay in cache, large enough that calls are few. */
const KERNEL_CHUNK_HOPS = 8;
/** Downmix samples kept before each chunk for the half-band's reach (31 a side), even to keep the chunk's parity. */
const KERNEL_CONTEXT = 64;

/** Whether the kernels can scan these channels (1 or 2, at twice the analysis rate, the studio's 44.1 kHz). */
function kernelsCanScan(channelCount: number, sampleRate: number, analysisRate: number): boolean {
  return channelCount >= 1 && channelCount <= 2 && sampleRate === 2 * analysisRate;
}

/**
 * scanChannels for one or two channels at twice the analysis rate, in the WebAssembly kernels, streamed chunk by chunk:
 * the K-weighting's recursion and the level sums in the same double precision, the downmix and its half-band in
 * float32 SIMD. Only the output at the analysis rate is whole in the kernels' memory (a quarter of a stereo track's
 * float size): fresh memory is slow to touch the first time, and a chunk stays in cache from its copy to its half-band.
 */
function scanWithKernels(channels: Float32Array[] | Int16Array[], sampleRate: number, analysisRate: number, hops: MeterHops, checkAbort: () => void, kernels: DspKernels): ChannelScan {
  const k = kernels.exports;
  const blocks = hops.count;
  const frames = channels[0].length;
  const stereo = channels.length === 2;
  const taps = FEATURE_HALF_BAND.odd;
  const outLength = Math.ceil(frames / 2);
  // The longest chunk: its hops plus the tail after the last whole hop (under one hop).
  const chunkMax = (KERNEL_CHUNK_HOPS + 1) * Math.ceil(sampleRate / BLOCKS_PER_SECOND) + 16;
  const window = KERNEL_CONTEXT + chunkMax + KERNEL_CONTEXT;
  // The downmix window (context, then the chunk; zeros after the end), its even and odd samples, the chunk's channels
  // (the downmix itself for mono), 16-bit staging, filter state, sums, taps and the output.
  const [monoAt, evenAt, oddAt, leftAt, rightAt, stagingAt, state, sumsAt, tapsAt, outAt] = kernels.layout([
    window * 4,
    (window / 2 + 1) * 4,
    (window / 2 + 1) * 4,
    stereo ? chunkMax * 4 : 0,
    stereo ? chunkMax * 4 : 0,
    chunkMax * 2,
    64,
    64,
    taps.length * 4,
    outLength * 4,
  ]);
  const chunkAt = monoAt + KERNEL_CONTEXT * 4;
  const left = stereo ? leftAt : chunkAt;
  const placed = [left, rightAt];
  kernels.f64(state, 8).fill(0);
  kernels.f32(tapsAt, taps.length).set(taps);
  kernels.f32(monoAt, KERNEL_CONTEXT).fill(0);
  const c = kWeightingCoefficients(sampleRate);
  k.setKWeighting(c.preFilter.b0, c.preFilter.b1, c.preFilter.b2, c.preFilter.a1, c.preFilter.a2, c.rlbHighPass.a1, c.rlbHighPass.a2);
  const scan = emptyScan(blocks, stereo, () => kernels.f32(outAt, outLength));
  let nextOut = 0;

  /**
   * Half-band outputs from the window, whose first sample is chunkStart − KERNEL_CONTEXT and which holds `filled`
   * samples: output n (centred on 2n) needs samples 2n − 31 … 2n + 31. Then the window's last KERNEL_CONTEXT samples
   * become the next window's context.
   */
  const decimate = (chunkStart: number, filled: number, last: boolean): void => {
    const first = chunkStart - KERNEL_CONTEXT;
    const local = first / 2;
    k.deinterleave(monoAt, filled, evenAt, oddAt);
    const oddLength = Math.floor(filled / 2);
    // Output n is local i = n − local; it reads odd[i − 16 … i + 15].
    const from = Math.max(nextOut - local, taps.length);
    const until = Math.min(oddLength - taps.length + 1, (last ? outLength : Number.MAX_SAFE_INTEGER) - local);
    if (until > from) {
      const done = k.halfBand(evenAt, oddAt, outAt + local * 4, from, until, tapsAt, taps.length);
      const out = kernels.f32(outAt, outLength);
      const even = kernels.f32(evenAt, window / 2 + 1);
      const odd = kernels.f32(oddAt, window / 2 + 1);
      // The last few (fewer than four) in TypeScript, with the same float32 sums.
      for (let i = done; i < until; i++) {
        let acc = Math.fround(0.5 * even[i]);
        for (let j = 0; j < taps.length; j++) acc = Math.fround(acc + Math.fround(Math.fround(taps[j]) * Math.fround(odd[i - j - 1] + odd[i + j])));
        out[i + local] = acc;
      }
      nextOut = until + local;
    }
    const mono = kernels.f32(monoAt, window);
    mono.copyWithin(0, filled - KERNEL_CONTEXT, filled);
  };

  for (let b = 0; b < blocks || b === 0; b += KERNEL_CHUNK_HOPS) {
    checkAbort();
    const chunkStart = blocks ? hops.start(b) : 0;
    const lastChunk = b + KERNEL_CHUNK_HOPS >= blocks;
    const chunkEnd = lastChunk ? frames : hops.start(b + KERNEL_CHUNK_HOPS);
    const length = chunkEnd - chunkStart;
    if (chunkStart % 2 !== 0 || length > chunkMax) throw new RangeError(`The kernels' scan needs even chunks of at most ${chunkMax} samples`);
    for (const [ch, channel] of channels.entries()) {
      const part = channel.subarray(chunkStart, chunkEnd);
      if (part instanceof Float32Array) kernels.f32(placed[ch], length).set(part);
      else {
        new Int16Array(k.memory.buffer, stagingAt, length).set(part);
        k.widenPcm16(stagingAt, placed[ch], length);
      }
    }
    for (let h = b; h < Math.min(blocks, b + KERNEL_CHUNK_HOPS); h++) {
      const from = hops.start(h) - chunkStart;
      const to = hops.start(h + 1) - chunkStart;
      if (stereo) k.scanStereoBlock(left, rightAt, chunkAt, from, to, state, sumsAt);
      else k.scanMonoBlock(left, from, to, state, sumsAt);
      const sums = kernels.f64(sumsAt, 5);
      scan.hopEnergy[h] = sums[0];
      scan.blockPeak[h] = sums[4];
      if (stereo) {
        scan.blockLL[h] = sums[1];
        scan.blockRR[h] = sums[2];
        scan.blockLR[h] = sums[3];
        scan.blockSquares[h] = sums[1] + sums[2];
      } else {
        scan.blockSquares[h] = sums[1];
      }
    }
    if (lastChunk) {
      // Samples after the last whole hop count for the peak and the spectrum, not for the hops.
      const tail = (blocks ? hops.start(blocks) : 0) - chunkStart;
      const chunk = placed.slice(0, channels.length).map((at) => kernels.f32(at, length));
      scan.tailPeak = peakFrom(chunk, tail);
      const mono = kernels.f32(chunkAt, length);
      if (stereo) for (let i = tail; i < length; i++) mono[i] = 0.5 * (chunk[0][i] + chunk[1][i]);
    }
    if (!lastChunk) {
      decimate(chunkStart, KERNEL_CONTEXT + length, false);
      continue;
    }
    // Zeros after the end, for the last outputs' reach.
    kernels.f32(monoAt, window).fill(0, KERNEL_CONTEXT + length, 2 * KERNEL_CONTEXT + length);
    decimate(chunkStart, 2 * KERNEL_CONTEXT + length, true);
    break;
  }
  return scan;
}

type BlockScanner = (k: number, from: number, to: number) => void;

function monoScanner(channel: Float32Array, sampleRate: number, scan: ChannelScan, mono: Float64Array): BlockScanner {
  const filter = new KWeightingFilter(sampleRate);
  return (k, from, to) => {
    scan.hopEnergy[k] = filter.sumOfSquares(channel, from, to - from);
    let squares = 0;
    let high = 0;
    let low = 0;
    for (let i = from; i < to; i++) {
      const x = channel[i];
      mono[i] = x;
      squares += x * x;
      if (x > high) high = x;
      else if (x < low) low = x;
    }
    scan.blockSquares[k] = squares;
    scan.blockPeak[k] = Math.max(high, -low);
  };
}

function stereoScanner(left: Float32Array, right: Float32Array, sampleRate: number, scan: ChannelScan, mono: Float64Array): BlockScanner {
  const filter = new StereoKWeightingFilter(sampleRate);
  return (k, from, to) => {
    scan.hopEnergy[k] = filter.sumOfSquares(left, right, from, to - from);
    let ll = 0;
    let rr = 0;
    let lr = 0;
    let high = 0;
    let low = 0;
    for (let i = from; i < to; i++) {
      const l = left[i];
      const r = right[i];
      ll += l * l;
      rr += r * r;
      lr += l * r;
      if (l > high) high = l;
      else if (l < low) low = l;
      if (r > high) high = r;
      else if (r < low) low = r;
      mono[i] = 0.5 * (l + r);
    }
    scan.blockLL[k] = ll;
    scan.blockRR[k] = rr;
    scan.blockLR[k] = lr;
    scan.blockSquares[k] = ll + rr;
    scan.blockPeak[k] = Math.max(high, -low);
  };
}

/** Three or more channels: BS.1770 channel weights for the loudness, the first two for the image. */
function multiChannelScanner(channels: Float32Array[], sampleRate: number, scan: ChannelScan, mono: Float64Array): BlockScanner {
  const filters = channels.map(() => new KWeightingFilter(sampleRate));
  const weights = channelWeightsFor(channels.length);
  const [left, right] = channels;
  return (k, from, to) => {
    let energy = 0;
    let squares = 0;
    let peak = 0;
    for (const [c, ch] of channels.entries()) {
      if (weights[c] !== 0) energy += weights[c] * filters[c].sumOfSquares(ch, from, to - from);
      for (let i = from; i < to; i++) {
        const x = ch[i];
        squares += x * x;
        peak = Math.max(peak, Math.abs(x));
      }
    }
    let ll = 0;
    let rr = 0;
    let lr = 0;
    for (let i = from; i < to; i++) {
      ll += left[i] * left[i];
      rr += right[i] * right[i];
      lr += left[i] * right[i];
    }
    scan.hopEnergy[k] = energy;
    scan.blockSquares[k] = squares;
    scan.blockPeak[k] = peak;
    scan.blockLL[k] = ll;
    scan.blockRR[k] = rr;
    scan.blockLR[k] = lr;
    downmix(channels, mono, from, to);
  };
}

/** Mean of the channels over [from, to) into out. */
function downmix(channels: Float32Array[], out: Float64Array, from: number, to: number): void {
  if (channels.length === 1) {
    for (let i = from; i < to; i++) out[i] = channels[0][i];
    return;
  }
  if (channels.length === 2) {
    const [left, right] = channels;
    for (let i = from; i < to; i++) out[i] = 0.5 * (left[i] + right[i]);
    return;
  }
  const scale = 1 / channels.length;
  for (let i = from; i < to; i++) {
    let sum = 0;
    for (const ch of channels) sum += ch[i];
    out[i] = sum * scale;
  }
}

interface LevelAndImage {
  peak: number;
  activePeak: number;
  activeMeanSquare: number;
  width: number;
  correlation: number;
  balance: number;
}

/** Peaks, RMS and the L/R sums of the stereo image, from the scan's blocks. */
function levelAndImage(scan: ChannelScan, hops: MeterHops, channelCount: number, counts: (k: number) => boolean): LevelAndImage {
  const stereo = channelCount >= 2;
  let peak = scan.tailPeak;
  let activePeak = 0;
  let sumSquares = 0;
  let activeSamples = 0;
  let sumLL = 0;
  let sumRR = 0;
  let sumLR = 0;
  for (let k = 0; k < hops.count; k++) {
    peak = Math.max(peak, scan.blockPeak[k]);
    if (!counts(k)) continue;
    activePeak = Math.max(activePeak, scan.blockPeak[k]);
    sumSquares += scan.blockSquares[k];
    activeSamples += (hops.start(k + 1) - hops.start(k)) * channelCount;
    if (stereo) {
      sumLL += scan.blockLL[k];
      sumRR += scan.blockRR[k];
      sumLR += scan.blockLR[k];
    }
  }

  let width = 0;
  let correlation = 1;
  let balance = 0;
  if (stereo && sumLL + sumRR > 0) {
    balance = (sumRR - sumLL) / (sumRR + sumLL);
    const mid = (sumLL + sumRR + 2 * sumLR) / 4;
    const side = Math.max(0, (sumLL + sumRR - 2 * sumLR) / 4);
    width = mid > side / MAX_STEREO_WIDTH ? side / mid : MAX_STEREO_WIDTH;
    correlation = sumLL > 0 && sumRR > 0 ? Math.max(-1, Math.min(1, sumLR / Math.sqrt(sumLL * sumRR))) : 0;
  }
  return { peak, activePeak, activeMeanSquare: activeSamples ? sumSquares / activeSamples : 0, width, correlation, balance };
}

interface SpectralFeatures {
  centroidHz: number;
  tiltDbPerOctave: number;
  bandEnergiesDb: number[];
  melMeanDb: number[];
}

function spectralFeatures(
  analysed: Float32Array,
  blocks: number,
  counts: (k: number) => boolean,
  signal: { readonly aborted: boolean } | undefined,
  fft: PowerFft | undefined,
  kernels: DspKernels | undefined,
): SpectralFeatures {
  const { fftSize, hopSize, sampleRate: analysisRate, melBands } = SPECTROGRAM;
  if (signal?.aborted) throw new CancelledError('Track analysis cancelled');

  const bins = fftSize / 2 + 1;
  const binHz = analysisRate / fftSize;
  const runs = melRuns(melFilterbank());
  const meanPower = new Float64Array(bins);
  const melSumDb = new Float64Array(melBands);
  // One more than the bands: the last band's upper neighbour, whose weights are all 0.
  const mel = new Float64Array(melBands + 1);
  let spectralFrames = 0;
  let centroidSum = 0;
  let centroidFrames = 0;

  // The block holding a frame's centre decides whether the frame is part of the track playing; other frames are not
  // even transformed.
  const include = (t: number): boolean => blocks === 0 || counts(Math.min(blocks - 1, Math.floor((t * hopSize * BLOCKS_PER_SECOND) / analysisRate)));
  /** A frame's centroid from its sums, and its mel bands (powers) added in dB. */
  const addFrame = (magnitudeSum: number, weighted: number): void => {
    spectralFrames++;
    if (magnitudeSum > 0) {
      centroidSum += (weighted / magnitudeSum) * binHz;
      centroidFrames++;
    }
    for (let m = 0; m < melBands; m++) melSumDb[m] += powerToDb(mel[m]);
  };
  if (kernels && fft?.spectrum) {
    kernelFrames(analysed, fft.spectrum.bind(fft), kernels, runs, include, signal, meanPower, mel, addFrame);
  } else {
    forEachPowerFrame(
      analysed,
      (power) => {
        // One loop over the bins for the mean spectrum, the centroid's sums and the mel bands (two per run of bins).
        mel.fill(0);
        let magnitudeSum = 0;
        let weighted = 0;
        let k = 0;
        for (let r = 0; r < runs.end.length; r++) {
          let lower = 0;
          let upper = 0;
          for (const end = runs.end[r]; k < end; k++) {
            const p = power[k];
            meanPower[k] += p;
            const magnitude = Math.sqrt(p);
            magnitudeSum += magnitude;
            weighted += magnitude * k;
            lower += runs.lower[k] * p;
            upper += runs.upper[k] * p;
          }
          const band = runs.band[r];
          if (band >= 0) {
            mel[band] += lower;
            mel[band + 1] += upper;
          }
        }
        addFrame(magnitudeSum, weighted);
      },
      { fftSize, hopSize, signal, fft, include },
    );
  }

  let total = 0;
  for (let k = 0; k < bins; k++) {
    if (spectralFrames) meanPower[k] /= spectralFrames;
    total += meanPower[k];
  }
  const bandEnergiesDb: number[] = [];
  for (let b = 0; b + 1 < FEATURE_BANDS_HZ.length; b++) {
    let band = 0;
    for (let k = 0; k < bins; k++) {
      const f = k * binHz;
      if (f >= FEATURE_BANDS_HZ[b] && f < FEATURE_BANDS_HZ[b + 1]) band += meanPower[k];
    }
    bandEnergiesDb.push(total > 0 ? Math.max(SILENT_DB, 10 * Math.log10(band / total)) : SILENT_DB);
  }
  const melMeanDb = Array.from(melSumDb, (sum) => (spectralFrames ? sum / spectralFrames : MEL_FLOOR_DB));
  return {
    centroidHz: centroidFrames ? centroidSum / centroidFrames : 0,
    tiltDbPerOctave: total > 0 ? spectralTilt(meanPower, binHz) : 0,
    bandEnergiesDb,
    melMeanDb,
  };
}

/**
 * The STFT frames of spectralFeatures in the kernels: PFFFT's unwindowed spectrum of each included frame is copied to
 * the kernels' frame scratch, which window it in frequency and add its power to meanPower, its mel bands to mel, and
 * hand the centroid's sums to addFrame.
 */
function kernelFrames(
  analysed: Float32Array,
  spectrumOf: NonNullable<PowerFft['spectrum']>,
  kernels: DspKernels,
  runs: MelRuns,
  include: (t: number) => boolean,
  signal: { readonly aborted: boolean } | undefined,
  meanPower: Float64Array,
  mel: Float64Array,
  addFrame: (magnitudeSum: number, weighted: number) => void,
): void {
  const { fftSize, hopSize, melBands } = SPECTROGRAM;
  const half = fftSize / 2;
  const bins = half + 1;
  const runCount = runs.end.length;
  const k = kernels.exports;
  // The frame scratch, 16-byte aligned regions: spectrum, power, mean power, weights, runs, mel, sums.
  const sizes = [fftSize * 4, bins * 4 + 16, bins * 8, bins * 4, bins * 4, runCount * 4, runCount * 4, (melBands + 1) * 8, 16];
  const at: number[] = [];
  let next = kernels.frameScratch;
  for (const size of sizes) {
    at.push(next);
    next += Math.ceil(size / 16) * 16;
  }
  if (next > kernels.frameScratch + FRAME_SCRATCH_BYTES) throw new RangeError('The STFT frame does not fit the kernels\' frame scratch');
  const [specAt, powerAt, meanAt, lowerAt, upperAt, endAt, bandAt, melAt, sumsAt] = at;
  const memory = (): ArrayBuffer => k.memory.buffer;
  new Float64Array(memory(), meanAt, bins).fill(0);
  new Float32Array(memory(), lowerAt, bins).set(runs.lower);
  new Float32Array(memory(), upperAt, bins).set(runs.upper);
  new Int32Array(memory(), endAt, runCount).set(runs.end);
  new Int32Array(memory(), bandAt, runCount).set(runs.band);
  const { edgeScale, innerScale } = hannPowerScales(fftSize);
  const frames = frameCount(analysed.length, hopSize);
  for (let t = 0; t < frames; t++) {
    if (t % 64 === 0 && signal?.aborted) throw new CancelledError('Track analysis cancelled');
    if (!include(t)) continue;
    const spectrum = spectrumOf(analysed, t * hopSize - half);
    new Float32Array(memory(), specAt, fftSize).set(spectrum);
    k.spectrumFrame(specAt, half, edgeScale, innerScale, powerAt, meanAt, lowerAt, upperAt, endAt, bandAt, runCount, melBands, melAt, sumsAt);
    mel.set(new Float64Array(memory(), melAt, melBands + 1));
    const sums = new Float64Array(memory(), sumsAt, 2);
    addFrame(sums[0], sums[1]);
  }
  meanPower.set(new Float64Array(memory(), meanAt, bins));
}

/** Weighted least-squares slope of dB against octaves; 1/f weights give every octave equal say. */
function spectralTilt(power: Float64Array, binHz: number): number {
  let sw = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (let k = Math.ceil(TILT_LOW_HZ / binHz); k * binHz <= TILT_HIGH_HZ && k < power.length; k++) {
    const f = k * binHz;
    const w = 1 / f;
    const x = Math.log2(f);
    const y = 10 * Math.log10(Math.max(power[k], SILENT_POWER));
    sw += w;
    sx += w * x;
    sy += w * y;
    sxx += w * x * x;
    sxy += w * x * y;
  }
  const denominator = sw * sxx - sx * sx;
  return denominator > 0 ? (sw * sxy - sx * sy) / denominator : 0;
}

/** The mono signal at the analysis rate: the common 2× case by half-band, any other by resample(). */
function toAnalysisRate(mono: Float64Array, sampleRate: number, analysisRate: number): Float32Array {
  if (sampleRate === 2 * analysisRate) return decimateByTwo(mono, FEATURE_HALF_BAND);
  return resample([Float32Array.from(mono)], sampleRate, analysisRate)[0];
}

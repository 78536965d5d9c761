// Feed-forward compressor and lookahead brickwall limiter, both stereo-linked.
import type { CompressorSettings, LimiterSettings } from '../shared/mix';
import { activeDspKernels, type DspKernels } from './kernels';

const DB_TO_LN = Math.LN10 / 20;
const LN_TO_DB = 20 / Math.LN10;

export function dbToGain(db: number): number {
  return Math.exp(db * DB_TO_LN);
}

export function gainToDb(gain: number): number {
  return gain > 0 ? 20 * Math.log10(gain) : -Infinity;
}

/** One-pole coefficient reaching 1 - 1/e of a step after timeMs. */
export function onePoleCoefficient(timeMs: number, sampleRate: number): number {
  const samples = (Math.max(timeMs, 0) / 1000) * sampleRate;
  return samples > 0 ? Math.exp(-1 / samples) : 0;
}

/**
 * Static gain in dB (gain reduction plus makeup) that the compressor applies to a signal whose
 * detected peak level is inputDb; output level = inputDb + compressorGainDb(inputDb, settings).
 * Soft knee of width kneeDb centred on the threshold (quadratic interpolation).
 */
export function compressorGainDb(inputDb: number, s: Omit<CompressorSettings, 'enabled'>): number {
  return s.makeupDb - compressorReductionDb(inputDb, s.thresholdDb, Math.max(s.ratio, 1), Math.max(s.kneeDb, 0));
}

/** Gain reduction in dB (>= 0) of the static curve, without makeup. */
function compressorReductionDb(inputDb: number, threshold: number, ratio: number, knee: number): number {
  const over = inputDb - threshold;
  if (2 * over <= -knee) return 0;
  const slope = 1 - 1 / ratio;
  if (2 * over < knee) {
    const t = over + knee / 2;
    return (slope * t * t) / (2 * knee);
  }
  return slope * over;
}

/** Frames per detector step: the gain computer runs once per sub-block and the gain is interpolated. */
export const COMPRESSOR_SUB_BLOCK = 16;
/** Blocks up to this size never allocate in process() (the Web Audio quantum is 128). */
const MAX_LIVE_BLOCK = 1024;

/**
 * Feed-forward compressor with a stereo-linked peak detector (max of the channels) and attack and
 * release smoothing of the gain reduction in the dB domain (smooth decoupled peak detector,
 * Giannoulis, Massberg & Reiss, JAES 2012). The detector runs on the peak of each 16-frame
 * sub-block (0.33 ms at 48 kHz, well under any attack time) and the gain is ramped linearly
 * between sub-blocks: one log and one exp per 16 frames instead of per frame.
 */
export class Compressor {
  readonly sampleRate: number;
  #threshold = -18;
  #ratio = 3;
  #knee = 6;
  #makeupGain = 1;
  #kneeStartGain = 1;
  #attackMs = 10;
  #releaseMs = 120;
  #attackCoef = 0;
  #releaseCoef = 0;
  // Detector state: instantaneous-attack peak hold of the reduction, then the attack smoother.
  #heldReductionDb = 0;
  #reductionDb = 0;
  // Linear gain applied at the end of the previous sub-block, the start of the next ramp.
  #gain = 1;
  // Per-call sub-block peaks and gain ramps, grown as needed (never on the audio thread: its blocks are 128 frames).
  #peaks = new Float32Array(MAX_LIVE_BLOCK / COMPRESSOR_SUB_BLOCK);
  #ramps = new Float64Array((2 * MAX_LIVE_BLOCK) / COMPRESSOR_SUB_BLOCK);

  constructor(sampleRate: number, settings?: CompressorSettings) {
    this.sampleRate = sampleRate;
    if (settings) this.setSettings(settings);
    this.#gain = this.#makeupGain;
  }

  setSettings(s: CompressorSettings): void {
    this.#threshold = s.thresholdDb;
    this.#ratio = Math.max(s.ratio, 1);
    this.#knee = Math.max(s.kneeDb, 0);
    this.#makeupGain = dbToGain(s.makeupDb);
    this.#kneeStartGain = dbToGain(this.#threshold - this.#knee / 2);
    this.#attackMs = s.attackMs;
    this.#releaseMs = s.releaseMs;
    const detectorRate = this.sampleRate / COMPRESSOR_SUB_BLOCK;
    this.#attackCoef = onePoleCoefficient(s.attackMs, detectorRate);
    this.#releaseCoef = onePoleCoefficient(s.releaseMs, detectorRate);
  }

  reset(): void {
    this.#heldReductionDb = 0;
    this.#reductionDb = 0;
    this.#gain = this.#makeupGain;
  }

  /** Current gain reduction in dB (>= 0), for metering. */
  get gainReductionDb(): number {
    return this.#reductionDb;
  }

  /** Compresses channels[0..channelCount)[0..n) in place; 1 or 2 channels. */
  process(channels: Float32Array[], channelCount: number, n: number): void {
    const stereo = channelCount > 1;
    const left = channels[0];
    const right = stereo ? channels[1] : channels[0];
    const blocks = Math.ceil(n / COMPRESSOR_SUB_BLOCK);
    // Long blocks (offline mastering) run their per-sample loops on the kernels when a worker has them: same samples.
    const kernels = n >= KERNEL_COMPRESSOR_MIN_FRAMES && n <= KERNEL_COMPRESSOR_MAX_FRAMES ? activeDspKernels() : null;
    if (kernels) {
      const base = kernels.streamScratch;
      const l = base + COMP_LEFT, r = base + COMP_RIGHT;
      kernels.f32(l, n).set(left.subarray(0, n));
      kernels.f32(r, n).set(right.subarray(0, n));
      kernels.exports.blockPeaks(l, r, n, COMPRESSOR_SUB_BLOCK, base + COMP_PEAKS);
      const ramps = kernels.f64(base + COMP_RAMPS, 2 * blocks);
      this.#detect(kernels.f32(base + COMP_PEAKS, blocks), ramps, n);
      kernels.exports.applyGainRamps(l, stereo ? r : 0, n, COMPRESSOR_SUB_BLOCK, base + COMP_RAMPS);
      left.set(kernels.f32(l, n));
      if (stereo) right.set(kernels.f32(r, n));
      return;
    }
    if (this.#peaks.length < blocks) {
      this.#peaks = new Float32Array(blocks);
      this.#ramps = new Float64Array(2 * blocks);
    }
    const peaks = this.#peaks, ramps = this.#ramps;
    for (let b = 0, start = 0; b < blocks; b++, start += COMPRESSOR_SUB_BLOCK) {
      const end = Math.min(n, start + COMPRESSOR_SUB_BLOCK);
      let peak = 0;
      for (let i = start; i < end; i++) {
        const l = left[i] < 0 ? -left[i] : left[i];
        const r = right[i] < 0 ? -right[i] : right[i];
        if (l > peak) peak = l;
        if (r > peak) peak = r;
      }
      peaks[b] = peak;
    }
    this.#detect(peaks, ramps, n);
    for (let b = 0, start = 0; b < blocks; b++, start += COMPRESSOR_SUB_BLOCK) {
      const end = Math.min(n, start + COMPRESSOR_SUB_BLOCK);
      const g = ramps[2 * b], step = ramps[2 * b + 1];
      // A settled gain is the ramp with step 0 (g + 0·k is g itself); unity changes nothing.
      if (step === 0 && g === 1) continue;
      for (let i = start, k = 1; i < end; i++, k++) left[i] *= g + step * k;
      if (stereo) for (let i = start, k = 1; i < end; i++, k++) right[i] *= g + step * k;
    }
  }

  /**
   * The detector over sub-blocks with these stereo-linked peaks: advances its state and writes each sub-block's
   * gain ramp (start gain, step per frame) to ramps. Below the knee the static curve is flat, so quiet sub-blocks
   * skip the log; reductions under 1e-6 dB are inaudible, so idle compressors skip the exp.
   */
  #detect(peaks: Float32Array, ramps: Float64Array, n: number): void {
    const threshold = this.#threshold, ratio = this.#ratio, knee = this.#knee;
    const kneeStart = this.#kneeStartGain, makeup = this.#makeupGain;
    const slope = 1 - 1 / ratio;
    const halfKnee = knee / 2;
    let held = this.#heldReductionDb;
    let reduction = this.#reductionDb;
    let gain = this.#gain;
    const blocks = Math.ceil(n / COMPRESSOR_SUB_BLOCK);
    for (let b = 0; b < blocks; b++) {
      const frames = Math.min(COMPRESSOR_SUB_BLOCK, n - b * COMPRESSOR_SUB_BLOCK);
      const peak = peaks[b];
      let target = 0;
      if (peak > kneeStart) {
        const over = LN_TO_DB * Math.log(peak) - threshold;
        if (over >= halfKnee) {
          target = slope * over;
        } else if (over > -halfKnee) {
          const t = over + halfKnee;
          target = (slope * t * t) / (2 * knee);
        }
      }
      let aA = this.#attackCoef, aR = this.#releaseCoef;
      if (frames !== COMPRESSOR_SUB_BLOCK) {
        // A short last block still advances the envelopes by exactly its own length.
        aA = onePoleCoefficient(this.#attackMs, this.sampleRate / frames);
        aR = onePoleCoefficient(this.#releaseMs, this.sampleRate / frames);
      }
      const released = aR * held + (1 - aR) * target;
      held = target > released ? target : released;
      reduction = aA * reduction + (1 - aA) * held;
      const nextGain = reduction > 1e-6 ? makeup * Math.exp(-reduction * DB_TO_LN) : makeup;
      ramps[2 * b] = gain;
      ramps[2 * b + 1] = nextGain === gain ? 0 : (nextGain - gain) / frames;
      gain = nextGain;
    }
    this.#heldReductionDb = held < 1e-9 ? 0 : held;
    this.#reductionDb = reduction < 1e-9 ? 0 : reduction;
    this.#gain = gain;
  }
}

// Where #processOnKernels works in the kernels' streaming scratch area (the true-peak regions: never in use at once).
const KERNEL_COMPRESSOR_MIN_FRAMES = 1024;
const KERNEL_COMPRESSOR_MAX_FRAMES = 16384;
const COMP_LEFT = 81 * 1024;
const COMP_RIGHT = COMP_LEFT + KERNEL_COMPRESSOR_MAX_FRAMES * 4;
const COMP_PEAKS = COMP_RIGHT + KERNEL_COMPRESSOR_MAX_FRAMES * 4;
const COMP_RAMPS = COMP_PEAKS + (KERNEL_COMPRESSOR_MAX_FRAMES / COMPRESSOR_SUB_BLOCK) * 4;

const LIMITER_LOOKAHEAD_MS = 1.5;

/** Where the kernels' limiterProcess keeps a Limiter's state in their streaming scratch area, and how much it may use. */
const BUS_LIMITER_SCRATCH = 880 * 1024;
const BUS_LIMITER_SCRATCH_BYTES = 128 * 1024;
/** Frames per process() call on the kernels (Web Audio's quantum is 128). */
const RENDER_QUANTUM_MAX = 4096;

/** limiterProcess's state layout (byte offsets from its start), as src/dsp-kernels/kernels.ts reads it; end includes the I/O blocks. */
function busLimiterLayout(la: number): { delayL: number; delayR: number; dqGain: number; dqTime: number; box: number; end: number } {
  const up = (x: number) => Math.ceil(x / 16) * 16;
  const delayL = 64;
  const delayR = delayL + up(la * 4);
  const dqGain = delayR + up(la * 4);
  const dqTime = dqGain + up((la + 2) * 8);
  const box = dqTime + up((la + 2) * 8);
  // Then two stereo blocks: the I/O limiterProcess works on, and a second bus added into it (processSumInto).
  return { delayL, delayR, dqGain, dqTime, box, end: box + up(la * 8) + 4 * RENDER_QUANTUM_MAX * 4 };
}

/** Largest float32 not above x, so a clamped sample stored in a Float32Array stays under it. */
function float32AtMost(x: number): number {
  const f = Math.fround(x);
  if (f <= x) return f;
  const bits = new Float32Array([f]);
  const view = new Uint32Array(bits.buffer);
  view[0] += f > 0 ? -1 : 1;
  return bits[0];
}

/**
 * Lookahead sample-peak brickwall limiter. The signal is delayed by latencyFrames; the gain is the
 * minimum required gain over the lookahead window, released with a one-pole and then smoothed by a
 * box filter as long as the lookahead, so every sample is already attenuated when it leaves.
 * When disabled it is a pure delay, so the latency never changes during playback.
 */
export class Limiter {
  readonly sampleRate: number;
  readonly latencyFrames: number;
  #enabled = true;
  #ceiling = 1;
  #ceilingF32 = 1;
  #releaseCoef = 0;
  readonly #delayL: Float32Array;
  readonly #delayR: Float32Array;
  #delayPos = 0;
  // Monotonic deque for the sliding minimum of the required gain over latencyFrames + 1 samples.
  readonly #dqGain: Float64Array;
  readonly #dqTime: Float64Array;
  #dqHead = 0;
  #dqCount = 0;
  #time = 0;
  #releasedGain = 1;
  // Box filter (moving average) over the last latencyFrames released gains.
  readonly #box: Float64Array;
  #boxPos = 0;
  #boxSum = 0;
  #kernel: { kernels: DspKernels; at: number; io: number } | null = null;

  constructor(sampleRate: number, settings?: LimiterSettings) {
    this.sampleRate = sampleRate;
    this.latencyFrames = Math.max(1, Math.round((LIMITER_LOOKAHEAD_MS / 1000) * sampleRate));
    this.#delayL = new Float32Array(this.latencyFrames);
    this.#delayR = new Float32Array(this.latencyFrames);
    this.#dqGain = new Float64Array(this.latencyFrames + 2);
    this.#dqTime = new Float64Array(this.latencyFrames + 2);
    this.#box = new Float64Array(this.latencyFrames);
    this.reset();
    if (settings) this.setSettings(settings);
  }

  setSettings(s: LimiterSettings): void {
    const k = this.#kernel;
    if (k) {
      // The state lives in the kernels' memory while attached: change it here, then move it back.
      this.detachKernels();
      this.setSettings(s);
      this.attachKernels(k.kernels);
      return;
    }
    if (s.enabled && !this.#enabled) this.#resetGain();
    this.#enabled = s.enabled;
    this.#ceiling = dbToGain(Math.min(s.ceilingDb, 0));
    this.#ceilingF32 = float32AtMost(this.#ceiling);
    this.#releaseCoef = onePoleCoefficient(s.releaseMs, this.sampleRate);
  }

  reset(): void {
    const k = this.#kernel;
    if (k) {
      this.detachKernels();
      this.reset();
      this.attachKernels(k.kernels);
      return;
    }
    this.#delayL.fill(0);
    this.#delayR.fill(0);
    this.#delayPos = 0;
    this.#resetGain();
  }

  #resetGain(): void {
    this.#dqHead = 0;
    this.#dqCount = 0;
    this.#time = 0;
    this.#releasedGain = 1;
    this.#box.fill(1);
    this.#boxPos = 0;
    this.#boxSum = this.latencyFrames;
  }

  /** Current gain reduction in dB (>= 0), for metering. */
  get gainReductionDb(): number {
    return -gainToDb(this.#boxSum / this.latencyFrames);
  }

  /**
   * Runs process() on the WebAssembly kernels until detached (an offline render): the state moves into their
   * scratch memory and back, and the samples are the same.
   */
  attachKernels(kernels: DspKernels): void {
    if (this.#kernel) return;
    const la = this.latencyFrames;
    const at = kernels.streamScratch + BUS_LIMITER_SCRATCH;
    const layout = busLimiterLayout(la);
    if (layout.end > BUS_LIMITER_SCRATCH_BYTES) return;
    const head = kernels.f64(at, 7);
    head.set([this.#delayPos, this.#dqHead, this.#dqCount, this.#time, this.#releasedGain, this.#boxPos, this.#boxSum]);
    kernels.f32(at + layout.delayL, la).set(this.#delayL);
    kernels.f32(at + layout.delayR, la).set(this.#delayR);
    kernels.f64(at + layout.dqGain, la + 2).set(this.#dqGain);
    kernels.f64(at + layout.dqTime, la + 2).set(this.#dqTime);
    kernels.f64(at + layout.box, la).set(this.#box);
    this.#kernel = { kernels, at, io: at + layout.end - 4 * RENDER_QUANTUM_MAX * 4 };
  }

  /** Brings the state back from the kernels' memory; process() runs in TypeScript again. */
  detachKernels(): void {
    const k = this.#kernel;
    if (!k) return;
    this.#kernel = null;
    const la = this.latencyFrames;
    const layout = busLimiterLayout(la);
    const head = k.kernels.f64(k.at, 7);
    [this.#delayPos, this.#dqHead, this.#dqCount, this.#time, this.#releasedGain, this.#boxPos, this.#boxSum] = head;
    this.#delayL.set(k.kernels.f32(k.at + layout.delayL, la));
    this.#delayR.set(k.kernels.f32(k.at + layout.delayR, la));
    this.#dqGain.set(k.kernels.f64(k.at + layout.dqGain, la + 2));
    this.#dqTime.set(k.kernels.f64(k.at + layout.dqTime, la + 2));
    this.#box.set(k.kernels.f64(k.at + layout.box, la));
  }

  /**
   * process() of frames [from, from + m) of the sum a + b (an f32 sum, as adding the arrays gives; silence after m, up
   * to n frames), with output frames [skip, n) written to out from frame `to`: the master pass of a split render, with
   * the sum made and limited in the kernels' memory instead of copied through process(). False, having done nothing,
   * unless the limiter runs on the kernels.
   */
  processSumInto(
    a: { left: Float32Array; right: Float32Array },
    b: { left: Float32Array; right: Float32Array } | undefined,
    from: number,
    m: number,
    n: number,
    out: { left: Float32Array; right: Float32Array },
    skip: number,
    to: number,
  ): boolean {
    const k = this.#kernel;
    if (!k || !this.#enabled || n > RENDER_QUANTUM_MAX || m > n) return false;
    const { kernels } = k;
    const x = kernels.exports;
    const block = RENDER_QUANTUM_MAX * 4;
    const [ioL, ioR, plusL, plusR] = [k.io, k.io + block, k.io + 2 * block, k.io + 3 * block];
    for (const [io, plus, c] of [[ioL, plusL, 'left'], [ioR, plusR, 'right']] as const) {
      const view = kernels.f32(io, n);
      view.set(a[c].subarray(from, from + m));
      view.fill(0, m);
      if (!b || m === 0) continue;
      kernels.f32(plus, m).set(b[c].subarray(from, from + m));
      // dst += f32(src · 1): the f32 sum.
      x.addScaled(plus, io, m, 1);
    }
    x.limiterProcess(ioL, ioR, n, this.#ceiling, this.#ceilingF32, this.#releaseCoef, this.latencyFrames, k.at);
    out.left.set(kernels.f32(ioL + skip * 4, n - skip), to);
    out.right.set(kernels.f32(ioR + skip * 4, n - skip), to);
    return true;
  }

  /** Limits left/right[0..n) in place; the output is the input delayed by latencyFrames. */
  process(left: Float32Array, right: Float32Array, n: number): void {
    const k = this.#kernel;
    if (k && this.#enabled && n <= RENDER_QUANTUM_MAX) {
      const { kernels } = k;
      kernels.f32(k.io, n).set(left.subarray(0, n));
      kernels.f32(k.io + RENDER_QUANTUM_MAX * 4, n).set(right.subarray(0, n));
      kernels.exports.limiterProcess(k.io, k.io + RENDER_QUANTUM_MAX * 4, n, this.#ceiling, this.#ceilingF32, this.#releaseCoef, this.latencyFrames, k.at);
      left.set(kernels.f32(k.io, n));
      right.set(kernels.f32(k.io + RENDER_QUANTUM_MAX * 4, n));
      return;
    }
    if (k) {
      // Disabled, or an odd block: the TypeScript loop on the state brought back.
      this.detachKernels();
      this.process(left, right, n);
      this.attachKernels(k.kernels);
      return;
    }
    const delayL = this.#delayL, delayR = this.#delayR;
    const lookahead = this.latencyFrames;
    let delayPos = this.#delayPos;
    if (!this.#enabled) {
      for (let i = 0; i < n; i++) {
        const l = left[i], r = right[i];
        left[i] = delayL[delayPos];
        right[i] = delayR[delayPos];
        delayL[delayPos] = l;
        delayR[delayPos] = r;
        if (++delayPos === lookahead) delayPos = 0;
      }
      this.#delayPos = delayPos;
      return;
    }
    const ceiling = this.#ceiling, clamp = this.#ceilingF32;
    const aR = this.#releaseCoef;
    const dqGain = this.#dqGain, dqTime = this.#dqTime, dqSize = dqGain.length;
    const box = this.#box;
    const window = lookahead + 1;
    let dqHead = this.#dqHead, dqCount = this.#dqCount, time = this.#time;
    let released = this.#releasedGain, boxPos = this.#boxPos, boxSum = this.#boxSum;
    for (let i = 0; i < n; i++) {
      const l = left[i], r = right[i];
      const al = l < 0 ? -l : l;
      const ar = r < 0 ? -r : r;
      const peak = al > ar ? al : ar;
      const required = peak > ceiling ? ceiling / peak : 1;
      // Sliding minimum: drop queued gains that can never be the minimum again.
      while (dqCount > 0) {
        let back = dqHead + dqCount - 1;
        if (back >= dqSize) back -= dqSize;
        if (dqGain[back] < required) break;
        dqCount--;
      }
      let tail = dqHead + dqCount;
      if (tail >= dqSize) tail -= dqSize;
      dqGain[tail] = required;
      dqTime[tail] = time;
      dqCount++;
      if (dqTime[dqHead] <= time - window) {
        if (++dqHead === dqSize) dqHead = 0;
        dqCount--;
      }
      const held = dqGain[dqHead];
      released = held < released ? held : released + (1 - aR) * (held - released);
      boxSum += released - box[boxPos];
      box[boxPos] = released;
      if (++boxPos === lookahead) {
        boxPos = 0;
        // Re-summing once per lap keeps rounding drift of the running sum from accumulating.
        boxSum = 0;
        for (let k = 0; k < lookahead; k++) boxSum += box[k];
      }
      const gain = boxSum / lookahead;
      let outL = delayL[delayPos] * gain;
      let outR = delayR[delayPos] * gain;
      // Guards the last ulp of rounding; the gain curve itself already keeps peaks under the ceiling.
      if (outL > clamp) outL = clamp;
      else if (outL < -clamp) outL = -clamp;
      if (outR > clamp) outR = clamp;
      else if (outR < -clamp) outR = -clamp;
      delayL[delayPos] = l;
      delayR[delayPos] = r;
      if (++delayPos === lookahead) delayPos = 0;
      left[i] = outL;
      right[i] = outR;
      time++;
    }
    this.#delayPos = delayPos;
    this.#dqHead = dqHead;
    this.#dqCount = dqCount;
    this.#time = time;
    this.#releasedGain = released;
    this.#boxPos = boxPos;
    this.#boxSum = boxSum;
  }
}

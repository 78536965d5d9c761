// The mixer: channel strips summed into the master chain. The same code drives the AudioWorklet
// (live) and the render worker (offline), so both produce the same samples.
import { activeDspKernels, type DspKernels } from './kernels';
import { CancelledError } from '../shared/errors';
import { defaultMasterSettings, defaultTrackSettings } from '../shared/mix';
import type { MasterSettings, MixSettings, TrackSettings } from '../shared/mix';
import type { TrackChannels } from '../shared/session';
import { ChannelStrip, Equalizer, MAX_BLOCK_FRAMES, SmoothedStereoGain } from './channel-strip';
import { Compressor, Limiter, dbToGain, gainToDb } from './dynamics';
import { ShortTermLoudnessMeter } from './k-weighting';

/** Frames per process() call: the Web Audio render quantum. */
export const RENDER_QUANTUM = MAX_BLOCK_FRAMES;

/** A track whose strip only scales: its channels (both the mono one for mono) and its settled gains. */
export interface PlainTrack {
  left: Float32Array | Int16Array;
  right: Float32Array | Int16Array;
  gains: [number, number];
}

export interface EngineTrack {
  id: string;
  /** 1 or 2 channels at the session rate; 16-bit ones (k / 32768) are widened a block at a time as they play. */
  channels: TrackChannels;
}

export interface MeterReading {
  /** Sample peak since the last read; -Infinity when silent. */
  peakDb: number;
  /** Short-term (3 s) loudness; -Infinity when silent. */
  shortTermLufs: number;
}

class Meter {
  peak = 0;
  readonly loudness: ShortTermLoudnessMeter;

  constructor(sampleRate: number) {
    this.loudness = new ShortTermLoudnessMeter(sampleRate, 2);
  }

  measure(left: Float32Array, right: Float32Array, n: number): void {
    let peak = this.peak;
    for (let i = 0; i < n; i++) {
      const l = left[i] < 0 ? -left[i] : left[i];
      const r = right[i] < 0 ? -right[i] : right[i];
      if (l > peak) peak = l;
      if (r > peak) peak = r;
    }
    this.peak = peak;
  }

  read(): MeterReading {
    const reading = { peakDb: gainToDb(this.peak), shortTermLufs: this.loudness.loudness };
    this.peak = 0;
    return reading;
  }

  reset(): void {
    this.peak = 0;
    this.loudness.reset();
  }
}

interface TrackSlot {
  track: EngineTrack;
  strip: ChannelStrip;
  meter: Meter;
}

export class MixEngine {
  readonly sampleRate: number;
  /** Meters cost K-weighting per sample; an offline render switches them off. */
  metering = true;
  readonly #slots = new Map<string, TrackSlot>();
  #mix: MixSettings = { tracks: {}, master: defaultMasterSettings() };
  readonly #masterEq: Equalizer;
  readonly #masterCompressor: Compressor;
  #masterCompressorEnabled = false;
  readonly #masterGain: SmoothedStereoGain;
  readonly #limiter: Limiter;
  readonly #masterMeter: Meter;
  readonly #busL = new Float32Array(RENDER_QUANTUM);
  readonly #busR = new Float32Array(RENDER_QUANTUM);
  readonly #bus: Float32Array[] = [this.#busL, this.#busR];
  readonly #trackL = new Float32Array(RENDER_QUANTUM);
  readonly #trackR = new Float32Array(RENDER_QUANTUM);
  readonly #trackBus: Float32Array[] = [this.#trackL, this.#trackR];

  constructor(sampleRate: number) {
    this.sampleRate = sampleRate;
    this.#masterEq = new Equalizer(sampleRate, 2);
    this.#masterCompressor = new Compressor(sampleRate);
    this.#masterGain = new SmoothedStereoGain(sampleRate);
    this.#limiter = new Limiter(sampleRate);
    this.#masterMeter = new Meter(sampleRate);
    this.#applyMaster(this.#mix.master);
    this.#masterGain.snap();
  }

  /** Longest track in frames. */
  get length(): number {
    let frames = 0;
    for (const { track } of this.#slots.values()) frames = Math.max(frames, track.channels[0]?.length ?? 0);
    return frames;
  }

  /** Delay of the output relative to the sources (the limiter lookahead), constant. */
  get latencyFrames(): number {
    return this.#limiter.latencyFrames;
  }

  setTracks(tracks: EngineTrack[]): void {
    const keep = new Set(tracks.map((t) => t.id));
    for (const id of [...this.#slots.keys()]) if (!keep.has(id)) this.#slots.delete(id);
    for (const t of tracks) this.#put(t);
    this.#applyTrackSettings();
  }

  addTrack(t: EngineTrack): void {
    this.#put(t);
    this.#applyTrackSettings();
  }

  removeTrack(id: string): void {
    this.#slots.delete(id);
    this.#applyTrackSettings();
  }

  #put(t: EngineTrack): void {
    const channelCount = t.channels.length >= 2 ? 2 : 1;
    if (t.channels.length < 1) throw new Error(`Track ${t.id} has no audio channels`);
    const existing = this.#slots.get(t.id);
    if (existing && existing.strip.sourceChannels === channelCount) {
      existing.track = t;
      return;
    }
    this.#slots.set(t.id, {
      track: t,
      strip: new ChannelStrip(this.sampleRate, channelCount),
      meter: new Meter(this.sampleRate),
    });
  }

  /** New console settings; filter and dynamics state carry on, gains glide. */
  setMix(mix: MixSettings): void {
    this.#mix = mix;
    this.#applyTrackSettings();
    this.#applyMaster(mix.master);
  }

  #applyTrackSettings(): void {
    const settingsOf = (id: string): TrackSettings => this.#mix.tracks[id] ?? defaultTrackSettings();
    let anySolo = false;
    for (const id of this.#slots.keys()) if (settingsOf(id).solo) anySolo = true;
    for (const [id, slot] of this.#slots) {
      const s = settingsOf(id);
      slot.strip.setSettings({ ...s, audible: !s.mute && (!anySolo || s.solo) });
    }
  }

  #applyMaster(m: MasterSettings): void {
    this.#masterEq.setSettings(m.eqEnabled, m.eq);
    if (m.comp.enabled && !this.#masterCompressorEnabled) this.#masterCompressor.reset();
    this.#masterCompressorEnabled = m.comp.enabled;
    this.#masterCompressor.setSettings(m.comp);
    const g = dbToGain(m.gainDb);
    this.#masterGain.setTarget(g, g);
    this.#limiter.setSettings(m.limiter);
  }

  /** Clears every filter, dynamics and limiter state and snaps gains: call on seek or play. */
  reset(): void {
    for (const slot of this.#slots.values()) {
      slot.strip.reset();
      slot.meter.reset();
    }
    this.#masterEq.reset();
    this.#masterCompressor.reset();
    this.#masterGain.snap();
    this.#limiter.reset();
    this.#masterMeter.reset();
  }

  /** Renders source frames [pos, pos+n) into outL/outR[0..n), overwriting; n <= RENDER_QUANTUM. */
  process(pos: number, outL: Float32Array, outR: Float32Array, n: number): void {
    if (n > RENDER_QUANTUM) throw new RangeError(`process() renders at most ${RENDER_QUANTUM} frames, got ${n}`);
    this.#sumTracks(pos, n);
    this.#runMaster(n);
    outL.set(this.#busL.subarray(0, n));
    outR.set(this.#busR.subarray(0, n));
  }

  /**
   * Each audible track's channels and gains when every audible strip only scales (ChannelStrip.plainGains), in the
   * order the bus sums them; null otherwise. Silent strips are left out: they add nothing.
   */
  plainTracks(): PlainTrack[] | null {
    const out: PlainTrack[] = [];
    for (const slot of this.#slots.values()) {
      if (slot.strip.silent) continue;
      const source = slot.track.channels;
      const gains = slot.strip.plainGains(source);
      if (!gains) return null;
      const [left] = source;
      out.push({ left, right: slot.strip.sourceChannels > 1 ? source[1] : left, gains });
    }
    return out;
  }

  /** True when the master chain is the limiter alone: EQ flat or off, no compressor, unity gain settled (after reset). */
  get masterIsLimiterOnly(): boolean {
    const g = this.#masterGain;
    return this.#masterEq.bypassed && !this.#masterCompressorEnabled && g.settled && g.targetLeft === 1 && g.targetRight === 1;
  }

  /** The master limiter alone over left/right[0..n), in place (see masterIsLimiterOnly). */
  limitMaster(left: Float32Array, right: Float32Array, n: number): void {
    this.#limiter.process(left, right, n);
  }

  /** Limiter.processSumInto on the master limiter (see masterIsLimiterOnly); false when it does not run on the kernels. */
  limitMasterSumInto(a: Stereo, b: Stereo | undefined, from: number, m: number, n: number, out: Stereo, skip: number, to: number): boolean {
    return this.#limiter.processSumInto(a, b, from, m, n, out, skip, to);
  }

  /** Runs the master limiter on the kernels until detachKernels() (offline renders). */
  attachKernels(kernels: DspKernels): void {
    this.#limiter.attachKernels(kernels);
  }

  detachKernels(): void {
    this.#limiter.detachKernels();
  }

  /** Only the sum of the track strips, before the master chain: lets a render split tracks across workers. */
  processTracks(pos: number, outL: Float32Array, outR: Float32Array, n: number): void {
    if (n > RENDER_QUANTUM) throw new RangeError(`processTracks() renders at most ${RENDER_QUANTUM} frames, got ${n}`);
    this.#sumTracks(pos, n);
    outL.set(this.#busL.subarray(0, n));
    outR.set(this.#busR.subarray(0, n));
  }

  /** Only the master chain, over a bus summed elsewhere (see processTracks). */
  processMaster(inL: Float32Array, inR: Float32Array, outL: Float32Array, outR: Float32Array, n: number): void {
    if (n > RENDER_QUANTUM) throw new RangeError(`processMaster() renders at most ${RENDER_QUANTUM} frames, got ${n}`);
    this.#busL.set(inL.subarray(0, n));
    this.#busR.set(inR.subarray(0, n));
    this.#runMaster(n);
    outL.set(this.#busL.subarray(0, n));
    outR.set(this.#busR.subarray(0, n));
  }

  #sumTracks(pos: number, n: number): void {
    const busL = this.#busL, busR = this.#busR;
    busL.fill(0, 0, n);
    busR.fill(0, 0, n);
    const metering = this.metering;
    for (const slot of this.#slots.values()) {
      const strip = slot.strip;
      if (strip.silent) {
        // Still called so the strip knows to restart its filters clean when heard again.
        strip.process(slot.track.channels, pos, busL, busR, n, true);
        if (metering) slot.meter.loudness.pushSilence(n);
        continue;
      }
      // Offline, a strip that only scales adds straight into the bus, rounding as the track buffer does.
      if (!metering && strip.addPlain(slot.track.channels, pos, busL, busR, n)) continue;
      // Otherwise via the track buffer, so metering on or off rounds identically (live == offline).
      const tl = this.#trackL, tr = this.#trackR;
      strip.process(slot.track.channels, pos, tl, tr, n, false);
      if (metering) {
        slot.meter.measure(tl, tr, n);
        slot.meter.loudness.push(this.#trackBus, 0, n);
      }
      for (let i = 0; i < n; i++) {
        busL[i] += tl[i];
        busR[i] += tr[i];
      }
    }
  }

  #runMaster(n: number): void {
    const busL = this.#busL, busR = this.#busR;
    this.#masterEq.process(this.#bus, 2, n);
    if (this.#masterCompressorEnabled) this.#masterCompressor.process(this.#bus, 2, n);
    const gain = this.#masterGain;
    if (!(gain.settled && gain.targetLeft === 1 && gain.targetRight === 1)) gain.apply(busL, busR, busL, busR, n, false);
    this.#limiter.process(busL, busR, n);
    if (this.metering) {
      this.#masterMeter.measure(busL, busR, n);
      this.#masterMeter.loudness.push(this.#bus, 0, n);
    }
  }

  /** Peaks since the last read (then cleared) and short-term loudness, per track and master. */
  readMeters(): { tracks: Record<string, MeterReading>; master: MeterReading } {
    const tracks: Record<string, MeterReading> = {};
    for (const [id, slot] of this.#slots) tracks[id] = slot.meter.read();
    return { tracks, master: this.#masterMeter.read() };
  }
}

/** A stereo pair of channels, as the offline renders take and give them. */
export type Stereo = { left: Float32Array; right: Float32Array };

export interface RenderOptions {
  /** Called with the rendered fraction (0…1) every progressEveryFrames and at the end. */
  onProgress?: (fraction: number) => void;
  /** An AbortSignal; typed structurally because src/dsp compiles without the DOM lib. */
  signal?: { readonly aborted: boolean };
  /** Defaults to one second of audio. */
  progressEveryFrames?: number;
  /** Called as the output fills: frames [0, done) of left/right are final (a streamed render posts them on). */
  onFrames?: (left: Float32Array, right: Float32Array, done: number) => void;
}

/**
 * Renders source frames [startFrame, endFrame) exactly as live playback from startFrame after a
 * reset would: same RENDER_QUANTUM block boundaries, with the limiter latency removed so the output
 * lines up with the sources. Throws an AbortError when the signal aborts.
 */
export function renderOffline(
  engine: MixEngine,
  startFrame: number,
  endFrame: number,
  opts: RenderOptions = {},
): Stereo {
  return renderBlocks(engine, startFrame, endFrame, engine.latencyFrames, opts, (pos, l, r, n) => engine.process(pos, l, r, n));
}

/** Sum of the track strips over [startFrame, endFrame), no master chain (one part of a split render). */
export function renderTracksOffline(engine: MixEngine, startFrame: number, endFrame: number, opts: RenderOptions = {}): Stereo {
  const kernels = activeDspKernels();
  if (kernels) {
    engine.reset();
    const plain = engine.plainTracks();
    if (plain) return sumPlainTracksOnKernels(kernels, plain, startFrame, endFrame, opts);
  }
  return renderBlocks(engine, startFrame, endFrame, 0, opts, (pos, l, r, n) => engine.processTracks(pos, l, r, n));
}

/** Frames per chunk of sumPlainTracksOnKernels: bus and source chunks stay in cache. */
const PLAIN_CHUNK = 8192;
/** Frames per limiter call of limitMasterOnKernels (at most the kernel limiter's block). */
const MASTER_BLOCK = 4096;

/**
 * renderTracksOffline when every audible strip only scales: each track's product added into a bus in the kernels'
 * memory, in the engine's track order and with its roundings, so the sum is the same as processTracks gives.
 */
export function sumPlainTracksOnKernels(
  kernels: DspKernels,
  tracks: PlainTrack[],
  startFrame: number,
  endFrame: number,
  opts: RenderOptions,
): Stereo {
  const { onProgress, signal } = opts;
  const start = Math.floor(startFrame);
  const total = Math.max(0, Math.floor(endFrame) - start);
  const left = new Float32Array(total);
  const right = new Float32Array(total);
  const [busL, busR, src, ints] = kernels.layout([PLAIN_CHUNK * 4, PLAIN_CHUNK * 4, PLAIN_CHUNK * 4, PLAIN_CHUNK * 2]);
  const x = kernels.exports;
  // A 16-bit channel is copied at half the bytes and widened there to exactly its floats (k / 32768).
  const place = (ch: Float32Array | Int16Array, from: number, to: number) => {
    if (ch instanceof Int16Array) {
      new Int16Array(x.memory.buffer, ints, to - from).set(ch.subarray(from, to));
      x.widenPcm16(ints, src, to - from);
    } else {
      kernels.f32(src, to - from).set(ch.subarray(from, to));
    }
  };
  for (let done = 0; done < total; done += PLAIN_CHUNK) {
    if (signal?.aborted) throw new CancelledError('Render cancelled');
    const m = Math.min(PLAIN_CHUNK, total - done);
    kernels.f32(busL, m).fill(0);
    kernels.f32(busR, m).fill(0);
    const pos = start + done;
    for (const t of tracks) {
      // Frames outside the source add silence: only [first, last) of the chunk is read.
      const first = Math.min(m, Math.max(0, -pos));
      const last = Math.max(first, Math.min(m, t.left.length - pos));
      if (last <= first) continue;
      const [gl, gr] = t.gains;
      place(t.left, pos + first, pos + last);
      x.addScaled(src, busL + first * 4, last - first, gl);
      place(t.right, pos + first, pos + last);
      x.addScaled(src, busR + first * 4, last - first, gr);
    }
    left.set(kernels.f32(busL, m), done);
    right.set(kernels.f32(busR, m), done);
    opts.onFrames?.(left, right, done + m);
    if (onProgress && done + m < total) onProgress((done + m) / total);
  }
  onProgress?.(1);
  return { left, right };
}

/**
 * The master chain over a summed bus (plus a second partial sum, added as it is read, when given), latency removed:
 * completes a split render. The bus's own memory may hold the result: the caller must not keep it.
 */
export function renderMasterOffline(
  engine: MixEngine,
  busL: Float32Array,
  busR: Float32Array,
  opts: RenderOptions = {},
  plus?: Stereo,
): Stereo {
  const kernels = activeDspKernels();
  if (kernels) {
    engine.reset();
    if (engine.masterIsLimiterOnly) return limitMasterOnKernels(engine, kernels, busL, busR, opts, plus);
  }
  const inL = new Float32Array(RENDER_QUANTUM);
  const inR = new Float32Array(RENDER_QUANTUM);
  const total = busL.length;
  return renderBlocks(engine, 0, total, engine.latencyFrames, opts, (pos, l, r, n) => {
    inL.fill(0);
    inR.fill(0);
    if (pos < total) {
      const m = Math.min(n, total - pos);
      readBus(busL, busR, plus, pos, m, inL, inR);
    }
    engine.processMaster(inL, inR, l, r, n);
  });
}

/** Frames [pos, pos + m) of the bus, plus the second partial sum if any (an f32 sum, as adding the buffers gives), into inL/inR. */
function readBus(busL: Float32Array, busR: Float32Array, plus: Stereo | undefined, pos: number, m: number, inL: Float32Array, inR: Float32Array): void {
  inL.set(busL.subarray(pos, pos + m));
  inR.set(busR.subarray(pos, pos + m));
  if (!plus) return;
  const pl = plus.left;
  const pr = plus.right;
  for (let j = 0; j < m; j++) {
    inL[j] += pl[pos + j];
    inR[j] += pr[pos + j];
  }
}

/**
 * renderMasterOffline when the master chain is the limiter alone: the limiter runs over the bus in large blocks on the
 * kernels (its state machine does not depend on the block size), and its latency is dropped from the front.
 */
function limitMasterOnKernels(
  engine: MixEngine,
  kernels: DspKernels,
  busL: Float32Array,
  busR: Float32Array,
  opts: RenderOptions,
  plus?: Stereo,
): Stereo {
  const { onProgress, signal } = opts;
  const total = busL.length;
  // Written in place: each block's output lands behind what has been read (by the latency), so nothing unread is
  // overwritten, and 2 × 32 MB of fresh memory need not be touched.
  const bus = { left: busL, right: busR };
  const stream = new MasterLimiterStream(engine, kernels, bus);
  try {
    for (let done = 0; done < total; done += MASTER_BLOCK) {
      if (signal?.aborted) throw new CancelledError('Render cancelled');
      stream.push(bus, plus, done, Math.min(MASTER_BLOCK, total - done));
      if (onProgress && done + MASTER_BLOCK < total) onProgress((done + MASTER_BLOCK) / total);
    }
    stream.finish();
  } finally {
    stream.close();
  }
  onProgress?.(1);
  return bus;
}

/**
 * The master bus when its chain is the limiter alone (masterIsLimiterOnly, after a reset), on the kernels, fed the bus
 * piece by piece: each piece is a's frames plus, if given, b's (a second partial sum, added as f32 as the arrays would
 * be). The output, its latency dropped, goes to `out` (which may be a itself: each block lands behind what has been
 * read). The samples do not depend on how the bus is cut into pieces.
 */
export class MasterLimiterStream {
  readonly #engine: MixEngine;
  readonly #out: Stereo;
  readonly #latency: number;
  readonly #wasMetering: boolean;
  readonly #blockL = new Float32Array(MASTER_BLOCK);
  readonly #blockR = new Float32Array(MASTER_BLOCK);
  /** Bus frames limited so far. */
  #done = 0;
  #open = true;

  constructor(engine: MixEngine, kernels: DspKernels, out: Stereo) {
    this.#engine = engine;
    this.#out = out;
    this.#latency = engine.latencyFrames;
    this.#wasMetering = engine.metering;
    engine.metering = false;
    engine.attachKernels(kernels);
  }

  /** Frames [from, from + m) of a (and b): the next m frames of the bus. */
  push(a: Stereo, b: Stereo | undefined, from: number, m: number): void {
    for (let k = 0; k < m; k += MASTER_BLOCK) {
      const n = Math.min(MASTER_BLOCK, m - k);
      this.#block(a, b, from + k, n, n);
    }
  }

  /** Flushes the lookahead with silence past the bus: the output is complete after this. */
  finish(): void {
    const end = this.#out.left.length + this.#latency;
    while (this.#done < end) this.#block(this.#out, undefined, 0, 0, Math.min(MASTER_BLOCK, end - this.#done));
  }

  /** Hands the limiter's state back to TypeScript; call it whether or not the render finished. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#engine.detachKernels();
    this.#engine.metering = this.#wasMetering;
  }

  /** m bus frames from a (+ b) at `from`, then silence, to n frames in all. */
  #block(a: Stereo, b: Stereo | undefined, from: number, m: number, n: number): void {
    const done = this.#done;
    const first = Math.max(0, this.#latency - done);
    const to = done + first - this.#latency;
    const out = this.#out;
    // Summed and limited in the kernels' memory; else (the limiter could not move there) through process().
    if (!this.#engine.limitMasterSumInto(a, b, from, m, n, out, first, to)) {
      const blockL = this.#blockL;
      const blockR = this.#blockR;
      readBus(a.left, a.right, b, from, m, blockL, blockR);
      blockL.fill(0, m, n);
      blockR.fill(0, m, n);
      this.#engine.limitMaster(blockL, blockR, n);
      out.left.set(blockL.subarray(first, n), to);
      out.right.set(blockR.subarray(first, n), to);
    }
    this.#done = done + n;
  }
}

function renderBlocks(
  engine: MixEngine,
  startFrame: number,
  endFrame: number,
  latency: number,
  opts: RenderOptions,
  block: (pos: number, l: Float32Array, r: Float32Array, n: number) => void,
): Stereo {
  const { onProgress, signal } = opts;
  const start = Math.floor(startFrame);
  const total = Math.max(0, Math.floor(endFrame) - start);
  const left = new Float32Array(total);
  const right = new Float32Array(total);
  const blockL = new Float32Array(RENDER_QUANTUM);
  const blockR = new Float32Array(RENDER_QUANTUM);
  const progressEvery = Math.max(RENDER_QUANTUM, opts.progressEveryFrames ?? engine.sampleRate);
  const renderFrames = total + latency;
  const wasMetering = engine.metering;
  if (signal?.aborted) throw new CancelledError('Render cancelled');
  engine.metering = false;
  try {
    engine.reset();
    // Offline, the master limiter runs on the WebAssembly kernels when this worker has them (the same samples).
    const kernels = activeDspKernels();
    if (kernels) engine.attachKernels(kernels);
    let nextProgress = progressEvery;
    for (let done = 0; done < renderFrames; done += RENDER_QUANTUM) {
      if (signal?.aborted) throw new CancelledError('Render cancelled');
      const n = Math.min(RENDER_QUANTUM, renderFrames - done);
      block(start + done, blockL, blockR, n);
      const first = Math.max(0, latency - done);
      for (let i = first; i < n; i++) {
        left[done + i - latency] = blockL[i];
        right[done + i - latency] = blockR[i];
      }
      if (done + n > latency) opts.onFrames?.(left, right, done + n - latency);
      if (onProgress && done + n >= nextProgress && done + n < renderFrames) {
        onProgress((done + n) / renderFrames);
        nextProgress += progressEvery;
      }
    }
  } finally {
    engine.detachKernels();
    engine.metering = wasMetering;
  }
  onProgress?.(1);
  return { left, right };
}

// One console channel: EQ → compressor → fader → pan, mono or stereo in, stereo out.
import type { CompressorSettings, Eq } from '../shared/mix';
import { Biquad, biquadCoefficients, processCascade2, processStereo, processStereoCascade2 } from './biquad';
import { Compressor, dbToGain, onePoleCoefficient } from './dynamics';
import { panGains } from './pan';
import { isPcm16, PCM16_STEP, type TrackChannels } from '../shared/session';

export const MAX_BLOCK_FRAMES = 128;
const GAIN_SMOOTHING_MS = 10;
// Closer than this (-120 dB) to its target a smoothed gain snaps, so steady state is exact.
const GAIN_SETTLE_EPSILON = 1e-6;

/** EQ bands of one or more channels; bands at 0 dB are skipped, not filtered. */
export class Equalizer {
  readonly sampleRate: number;
  readonly #filters: Biquad[][];
  readonly #active: boolean[];
  // Indices of the bands that actually filter, so process() walks only those.
  #activeBands: number[] = [];
  #enabled = true;

  constructor(sampleRate: number, channelCount: number, bandCount = 4) {
    this.sampleRate = sampleRate;
    this.#filters = Array.from({ length: channelCount }, () => Array.from({ length: bandCount }, () => new Biquad()));
    this.#active = new Array<boolean>(bandCount).fill(false);
  }

  setSettings(enabled: boolean, eq: Eq): void {
    const wasEnabled = this.#enabled;
    this.#enabled = enabled;
    for (let b = 0; b < this.#active.length; b++) {
      const band = eq[b];
      const active = enabled && band !== undefined && band.gainDb !== 0;
      if (active) {
        const c = biquadCoefficients(band, this.sampleRate);
        for (const channel of this.#filters) {
          // A band that was bypassed holds stale state from long ago; start it clean.
          if (!this.#active[b] || !wasEnabled) channel[b].reset();
          channel[b].setCoefficients(c);
        }
      }
      this.#active[b] = active;
    }
    this.#activeBands = this.#active.flatMap((active, b) => (active ? [b] : []));
  }

  reset(): void {
    for (const channel of this.#filters) for (const f of channel) f.reset();
  }

  /** True when process() leaves the audio as it is (disabled, or every band at 0 dB). */
  get bypassed(): boolean {
    return !this.#enabled || this.#activeBands.length === 0;
  }

  /** Filters channels[0..channelCount)[0..n) in place through the active bands. */
  process(channels: Float32Array[], channelCount: number, n: number): void {
    const bands = this.#activeBands;
    const count = bands.length;
    if (!this.#enabled || count === 0) return;
    const filters = this.#filters;
    if (channelCount >= 2) {
      const fl = filters[0], fr = filters[1];
      let k = 0;
      for (; k + 1 < count; k += 2) {
        const a = bands[k], b = bands[k + 1];
        processStereoCascade2(fl[a], fl[b], fr[a], fr[b], channels[0], channels[1], n);
      }
      if (k < count) processStereo(fl[bands[k]], fr[bands[k]], channels[0], channels[1], n);
      for (let c = 2; c < channelCount; c++) for (const b of bands) filters[c][b].process(channels[c], n);
      return;
    }
    const f = filters[0];
    let k = 0;
    for (; k + 1 < count; k += 2) processCascade2(f[bands[k]], f[bands[k + 1]], channels[0], n);
    if (k < count) f[bands[k]].process(channels[0], n);
  }
}

/** Per-sample one-pole glide of a stereo gain pair, exact once settled. */
export class SmoothedStereoGain {
  readonly #coef: number;
  left = 0;
  right = 0;
  targetLeft = 0;
  targetRight = 0;

  constructor(sampleRate: number, smoothingMs = GAIN_SMOOTHING_MS) {
    this.#coef = onePoleCoefficient(smoothingMs, sampleRate);
  }

  setTarget(left: number, right: number): void {
    this.targetLeft = left;
    this.targetRight = right;
  }

  snap(): void {
    this.left = this.targetLeft;
    this.right = this.targetRight;
  }

  get settled(): boolean {
    return this.left === this.targetLeft && this.right === this.targetRight;
  }

  /** Writes (or adds) sourceL·gainL and sourceR·gainR into outL/outR[0..n). */
  apply(sourceL: Float32Array, sourceR: Float32Array, outL: Float32Array, outR: Float32Array, n: number, add: boolean): void {
    const tl = this.targetLeft, tr = this.targetRight;
    if (this.settled) {
      if (add) {
        for (let i = 0; i < n; i++) {
          outL[i] += sourceL[i] * tl;
          outR[i] += sourceR[i] * tr;
        }
      } else if (tl === 1 && tr === 1) {
        for (let i = 0; i < n; i++) {
          outL[i] = sourceL[i];
          outR[i] = sourceR[i];
        }
      } else {
        for (let i = 0; i < n; i++) {
          outL[i] = sourceL[i] * tl;
          outR[i] = sourceR[i] * tr;
        }
      }
      return;
    }
    const k = 1 - this.#coef;
    let gl = this.left, gr = this.right;
    for (let i = 0; i < n; i++) {
      gl += k * (tl - gl);
      gr += k * (tr - gr);
      const l = sourceL[i] * gl;
      const r = sourceR[i] * gr;
      if (add) {
        outL[i] += l;
        outR[i] += r;
      } else {
        outL[i] = l;
        outR[i] = r;
      }
    }
    this.left = Math.abs(gl - tl) < GAIN_SETTLE_EPSILON ? tl : gl;
    this.right = Math.abs(gr - tr) < GAIN_SETTLE_EPSILON ? tr : gr;
  }
}

export interface ChannelStripSettings {
  gainDb: number;
  pan: number;
  /** False when muted or silenced by another track's solo: the fader glides to zero. */
  audible: boolean;
  eqEnabled: boolean;
  eq: Eq;
  comp: CompressorSettings;
}

/** EQ → compressor → fader (smoothed) → constant-power pan; adds its stereo output to a bus. */
export class ChannelStrip {
  readonly sampleRate: number;
  readonly sourceChannels: 1 | 2;
  readonly #eq: Equalizer;
  readonly #compressor: Compressor;
  #compressorEnabled = false;
  readonly #gain: SmoothedStereoGain;
  readonly #scratch: Float32Array[];
  #skippedWhileSilent = false;

  constructor(sampleRate: number, sourceChannels: 1 | 2) {
    this.sampleRate = sampleRate;
    this.sourceChannels = sourceChannels;
    this.#eq = new Equalizer(sampleRate, sourceChannels);
    this.#compressor = new Compressor(sampleRate);
    this.#gain = new SmoothedStereoGain(sampleRate);
    this.#scratch = Array.from({ length: sourceChannels }, () => new Float32Array(MAX_BLOCK_FRAMES));
  }

  setSettings(s: ChannelStripSettings): void {
    this.#eq.setSettings(s.eqEnabled, s.eq);
    if (s.comp.enabled && !this.#compressorEnabled) this.#compressor.reset();
    this.#compressorEnabled = s.comp.enabled;
    this.#compressor.setSettings(s.comp);
    const fader = s.audible ? dbToGain(s.gainDb) : 0;
    const pan = panGains(s.pan, this.sourceChannels);
    this.#gain.setTarget(fader * pan.left, fader * pan.right);
  }

  reset(): void {
    this.#eq.reset();
    this.#compressor.reset();
    this.#gain.snap();
    this.#skippedWhileSilent = false;
  }

  /** Current compressor gain reduction in dB (>= 0). */
  get gainReductionDb(): number {
    return this.#compressorEnabled ? this.#compressor.gainReductionDb : 0;
  }

  /** True when the strip is settled at zero gain and process() would output nothing. */
  get silent(): boolean {
    return this.#gain.settled && this.#gain.targetLeft === 0 && this.#gain.targetRight === 0;
  }

  /** The settled left and right gains when addPlain() would take the strip (it only scales), else null. */
  plainGains(source: TrackChannels): [number, number] | null {
    const gain = this.#gain;
    if (this.#compressorEnabled || !this.#eq.bypassed || !gain.settled || this.silent) return null;
    const srcR = this.sourceChannels > 1 ? source[1] : source[0];
    if (srcR.length !== source[0].length) return null;
    return [gain.targetLeft, gain.targetRight];
  }

  /**
   * Adds source frames [pos, pos+n) times the settled fader and pan gains straight into the bus when
   * that is all the strip does (EQ flat or off, no compressor, gain settled): each product rounded to
   * float32 as process() rounds it into a track buffer, so the bus sum is the same, without the copies.
   * Returns false, having done nothing, when the strip does more.
   */
  addPlain(source: TrackChannels, pos: number, busL: Float32Array, busR: Float32Array, n: number): boolean {
    const gain = this.#gain;
    // 16-bit sources go through process(), which widens them (with the kernels, an offline render sums them there).
    if (this.#compressorEnabled || !this.#eq.bypassed || !gain.settled || this.silent || isPcm16(source)) return false;
    if (this.#skippedWhileSilent) {
      this.#eq.reset();
      this.#compressor.reset();
      this.#skippedWhileSilent = false;
    }
    const srcL = source[0];
    const srcR = this.sourceChannels > 1 ? source[1] : source[0];
    if (srcR.length !== srcL.length) return false;
    const gl = gain.targetLeft, gr = gain.targetRight;
    // Frames outside the source add silence; the bus never holds −0, so skipping them changes nothing.
    const first = Math.min(n, Math.max(0, -pos));
    const last = Math.max(first, Math.min(n, srcL.length - pos));
    const fround = Math.fround;
    for (let i = first; i < last; i++) {
      busL[i] += fround(srcL[pos + i] * gl);
      busR[i] += fround(srcR[pos + i] * gr);
    }
    return true;
  }

  /**
   * Processes source frames [pos, pos+n) (silence past the end) and writes (add=false) or adds
   * (add=true) the stereo result into outL/outR[0..n).
   */
  process(source: TrackChannels, pos: number, outL: Float32Array, outR: Float32Array, n: number, add: boolean): void {
    if (this.silent) {
      // A muted strip costs nothing; its filters restart clean when it is heard again.
      this.#skippedWhileSilent = true;
      if (!add) {
        outL.fill(0, 0, n);
        outR.fill(0, 0, n);
      }
      return;
    }
    if (this.#skippedWhileSilent) {
      this.#eq.reset();
      this.#compressor.reset();
      this.#skippedWhileSilent = false;
    }
    const channels = this.sourceChannels;
    const scratch = this.#scratch;
    const pcm16 = isPcm16(source);
    for (let c = 0; c < channels; c++) {
      const src = source[c];
      const dst = scratch[c];
      // Frames outside the source (before 0 or past its end) are silence.
      const first = Math.min(n, Math.max(0, -pos));
      const last = Math.max(first, Math.min(n, src.length - pos));
      for (let i = 0; i < first; i++) dst[i] = 0;
      // A 16-bit source is widened to exactly the floats its file decodes to (k / 32768).
      if (pcm16) for (let i = first; i < last; i++) dst[i] = (src as Int16Array)[pos + i] * PCM16_STEP;
      else for (let i = first; i < last; i++) dst[i] = (src as Float32Array)[pos + i];
      for (let i = last; i < n; i++) dst[i] = 0;
    }
    this.#eq.process(scratch, channels, n);
    if (this.#compressorEnabled) this.#compressor.process(scratch, channels, n);
    const right = channels > 1 ? scratch[1] : scratch[0];
    this.#gain.apply(scratch[0], right, outL, outR, n, add);
  }
}

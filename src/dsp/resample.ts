// Band-limited sample-rate conversion (polyphase Kaiser-windowed sinc), so WAV imports at 48/96 kHz need no ffmpeg.wasm.
import { besselI0 } from './kaiser';

/** Zero crossings of the sinc on each side, at the cutoff's scale: ~80 dB stopband with KAISER_BETA. */
const ZERO_CROSSINGS = 16;
const KAISER_BETA = 8;
/** Passband edge as a fraction of the lower Nyquist frequency (20 kHz of 22.05 kHz at 44.1 kHz). */
const ROLLOFF = 0.94;
/** Above this many phases the fractional position is quantized (error under 1/8192 sample). */
const MAX_PHASES = 4096;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

interface PolyphaseKernel {
  /** phases × taps coefficients, each phase normalized to unity DC gain. */
  coefficients: Float32Array;
  phases: number;
  taps: number;
  /** Offset of tap 0 relative to the integer input position. */
  firstTap: number;
}

function designKernel(fromRate: number, toRate: number, phases: number): PolyphaseKernel {
  // Cutoff in cycles per input sample: the lower of the two Nyquist frequencies.
  const cutoff = 0.5 * Math.min(1, toRate / fromRate) * ROLLOFF;
  const halfWidth = ZERO_CROSSINGS / (2 * cutoff);
  const half = Math.ceil(halfWidth);
  const taps = 2 * half;
  const firstTap = -half + 1;
  const coefficients = new Float32Array(phases * taps);
  const i0Beta = besselI0(KAISER_BETA);
  for (let p = 0; p < phases; p++) {
    const frac = p / phases;
    let sum = 0;
    for (let m = 0; m < taps; m++) {
      const t = frac - (firstTap + m);
      const x = 2 * cutoff * t;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const r = t / halfWidth;
      const window = Math.abs(r) >= 1 ? 0 : besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / i0Beta;
      const h = sinc * window;
      coefficients[p * taps + m] = h;
      sum += h;
    }
    for (let m = 0; m < taps; m++) coefficients[p * taps + m] /= sum;
  }
  return { coefficients, phases, taps, firstTap };
}

function resampleChannels(inputs: Float32Array[], outFrames: number, up: number, down: number, kernel: PolyphaseKernel): Float32Array[] {
  const { coefficients, phases, taps, firstTap } = kernel;
  const last = inputs[0].length - 1;
  const phaseScale = phases / up;
  return inputs.map((input) => {
    const out = new Float32Array(outFrames);
    for (let n = 0; n < outFrames; n++) {
      // Exact rational position n·down/up, kept in integers so long files do not drift.
      const num = n * down;
      const index = Math.floor(num / up);
      const rem = num - index * up;
      const phase = phases === up ? rem : Math.min(phases - 1, Math.round(rem * phaseScale));
      const row = phase * taps;
      const start = index + firstTap;
      let acc = 0;
      if (start >= 0 && start + taps - 1 <= last) {
        for (let m = 0; m < taps; m++) acc += coefficients[row + m] * input[start + m];
      } else {
        for (let m = 0; m < taps; m++) {
          const k = start + m;
          if (k >= 0 && k <= last) acc += coefficients[row + m] * input[k];
        }
      }
      out[n] = acc;
    }
    return out;
  });
}

/** Converts planar channels from one sample rate to another; returns the input untouched when the rates match. */
export function resample(channels: Float32Array[], fromRate: number, toRate: number): Float32Array[] {
  if (!(fromRate > 0 && toRate > 0 && Number.isInteger(fromRate) && Number.isInteger(toRate))) {
    throw new RangeError(`sample rates must be positive integers (got ${fromRate} → ${toRate})`);
  }
  if (fromRate === toRate) return channels;
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  const kernel = designKernel(fromRate, toRate, Math.min(up, MAX_PHASES));
  const frames = channels[0]?.length ?? 0;
  const outFrames = Math.round((frames * up) / down);
  return resampleChannels(channels, outFrames, up, down, kernel);
}

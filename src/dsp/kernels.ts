// The WebAssembly SIMD kernels of src/dsp-kernels/kernels.ts (built into kernels.wasm beside this file by
// scripts/build-kernels.mjs), loaded from their bytes. Their memory is a scratch area that the caller lays out;
// this wrapper hands out 16-byte-aligned regions and grows the memory as needed.

// src/dsp compiles without the DOM lib, which declares WebAssembly: the little used here, module-scoped.
declare const WebAssembly: {
  instantiate(bytes: ArrayBuffer | Uint8Array, imports: object): Promise<{ instance: { exports: unknown } }>;
  validate(bytes: ArrayBuffer | Uint8Array): boolean;
};

interface KernelExports {
  memory: { buffer: ArrayBuffer };
  heapBase(): number;
  reserve(bytes: number): boolean;
  widenPcm16(src: number, dst: number, n: number): void;
  setKWeighting(b0: number, b1: number, b2: number, a1: number, a2: number, hA1: number, hA2: number): void;
  scanStereoBlock(l: number, r: number, mono: number, from: number, to: number, state: number, out: number): void;
  scanMonoBlock(x: number, from: number, to: number, state: number, out: number): void;
  deinterleave(src: number, n: number, even: number, odd: number): void;
  deinterleave16(src: number, n: number, even: number, odd: number): void;
  halfBand(even: number, odd: number, out: number, first: number, end: number, taps: number, count: number): number;
  spectrumFrame(
    spec: number,
    half: number,
    edge: number,
    inner: number,
    power: number,
    meanPower: number,
    lower: number,
    upper: number,
    runEnd: number,
    runBand: number,
    runCount: number,
    bands: number,
    mel: number,
    out: number,
  ): void;
  kWeightedEnergy(l: number, r: number, n: number, state: number, flushAtEnd: boolean): number;
  limitLookahead(l: number, r: number, env: number, ahead: number, outL: number, outR: number, n: number, gain: number, ceiling: number, aR: number, la: number, state: number): void;
  truePeakFourByThirtyTwo(x: number, from: number, to: number, taps: number, peak: number, env: number): number;
  absPeak(x: number, n: number, peak: number): number;
  limiterProcess(l: number, r: number, n: number, ceiling: number, clamp: number, aR: number, la: number, state: number): void;
  addScaled(src: number, dst: number, n: number, gain: number): void;
  zeroNonFinite(x: number, n: number): number;
  minMax(x: number, n: number, out: number): void;
  minMax16(x: number, n: number, out: number): void;
  levels(l: number, r: number, n: number, out: number): void;
  blockPeaks(l: number, r: number, n: number, block: number, out: number): void;
  applyGainRamps(l: number, r: number, n: number, block: number, ramps: number): void;
  slidingMaxRange(src: number, n: number, before: number, after: number, out: number, from: number, to: number, suffix: number): void;
}

const MAX_BYTES = 2 ** 32 - 2 ** 16;

/** Bytes of the small scratch area before the layouts, for per-frame work that runs while a layout's data is in use. */
export const FRAME_SCRATCH_BYTES = 64 * 1024;

/**
 * Bytes of the streaming scratch area after it, for the loudness, true-peak and limiter loops: they copy bounded
 * chunks of the caller's arrays in and out, so a whole mix never has to live in (and first touch) the kernels' memory.
 */
export const STREAM_SCRATCH_BYTES = 1024 * 1024;

export interface DspKernels {
  readonly exports: KernelExports;
  /** Offset of the FRAME_SCRATCH_BYTES scratch area, which layout() never touches. */
  readonly frameScratch: number;
  /** Offset of the STREAM_SCRATCH_BYTES streaming scratch area, which layout() never touches either. */
  readonly streamScratch: number;
  /**
   * Lays out regions of the given byte sizes from the start of the scratch area (each 16-byte aligned), growing the
   * memory to hold them; returns their byte offsets. Earlier layouts are overwritten: one job at a time.
   */
  layout(sizes: number[]): number[];
  f32(offset: number, length: number): Float32Array;
  f64(offset: number, length: number): Float64Array;
}

/** Instantiates the kernels from kernels.wasm's bytes (fetched in a browser, read from disk in Node). */
export async function loadDspKernels(bytes: ArrayBuffer | Uint8Array): Promise<DspKernels> {
  // An engine without WebAssembly SIMD refuses the module here; callers then keep their TypeScript paths.
  const { instance } = await WebAssembly.instantiate(bytes, { env: { abort: kernelAbort } });
  const exports = instance.exports as KernelExports;
  const frameScratch = exports.heapBase();
  const streamScratch = frameScratch + FRAME_SCRATCH_BYTES;
  const base = streamScratch + STREAM_SCRATCH_BYTES;
  if (!exports.reserve(base)) throw new RangeError('The DSP kernels could not reserve their scratch memory');
  return {
    exports,
    frameScratch,
    streamScratch,
    layout(sizes) {
      const offsets: number[] = [];
      let at = base;
      for (const size of sizes) {
        offsets.push(at);
        at += Math.ceil(size / 16) * 16;
      }
      // A 32-bit module addresses at most 4 GiB; the engine may refuse less.
      if (at > MAX_BYTES || !exports.reserve(at)) throw new RangeError(`The DSP kernels could not grow their memory to ${Math.round(at / 2 ** 20)} MiB`);
      return offsets;
    },
    f32: (offset, length) => new Float32Array(exports.memory.buffer, offset, length),
    f64: (offset, length) => new Float64Array(exports.memory.buffer, offset, length),
  };
}

let active: DspKernels | null = null;

/**
 * Lets the loudness, true-peak and mastering loops of src/dsp run on these kernels (null: their TypeScript twins,
 * which give the same results). A worker installs them once they have loaded; Node scripts need not.
 */
export function useDspKernels(kernels: DspKernels | null): void {
  active = kernels;
}

/** The installed kernels, if any. */
export function activeDspKernels(): DspKernels | null {
  return active;
}

function kernelAbort(): never {
  throw new Error('A DSP kernel aborted');
}

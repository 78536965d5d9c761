// @echogarden/pffft-wasm ships no types: the Emscripten factory of its SIMD build, as src/dsp/pffft.ts uses it.
declare module '@echogarden/pffft-wasm/simd' {
  export interface PffftModule {
    HEAPF32: Float32Array;
    _pffft_new_setup(size: number, transform: number): number;
    _pffft_aligned_malloc(bytes: number): number;
    _pffft_transform_ordered(setup: number, input: number, output: number, work: number, direction: number): void;
  }
  const createPffft: (options?: { locateFile?: (path: string) => string }) => Promise<PffftModule>;
  export default createPffft;
}

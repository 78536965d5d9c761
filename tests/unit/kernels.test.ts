import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadDspKernels } from '../../src/dsp/kernels';
import { pcm16ToFloat32 } from '../../src/dsp/pcm16';

const wasm = () => readFileSync(new URL('../../src/dsp/kernels.wasm', import.meta.url));

describe('DSP kernels (WebAssembly SIMD)', () => {
  it('the committed kernels.wasm is what its AssemblyScript source compiles to', () => {
    expect(() => execFileSync(process.execPath, ['scripts/build-kernels.mjs', '--check'], { stdio: 'pipe' })).not.toThrow();
  }, 60_000);

  it('widens 16-bit PCM exactly as pcm16ToFloat32 does, odd lengths included', async () => {
    const k = await loadDspKernels(wasm());
    const pcm = Int16Array.from({ length: 1003 }, (_, i) => (i * 7919) % 65536 - 32768);
    const [src, dst] = k.layout([pcm.length * 2, pcm.length * 4]);
    new Int16Array(k.exports.memory.buffer, src, pcm.length).set(pcm);
    k.exports.widenPcm16(src, dst, pcm.length);
    expect(Array.from(k.f32(dst, pcm.length))).toEqual(Array.from(pcm16ToFloat32(pcm)));
  });

  it('splits even and odd samples', async () => {
    const k = await loadDspKernels(wasm());
    const n = 21;
    const [src, even, odd] = k.layout([n * 4, 11 * 4, 10 * 4]);
    k.f32(src, n).set(Float32Array.from({ length: n }, (_, i) => i));
    k.exports.deinterleave(src, n, even, odd);
    expect(Array.from(k.f32(even, 11))).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
    expect(Array.from(k.f32(odd, 10))).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
  });

  it('grows its memory for a layout and refuses one beyond 4 GiB', async () => {
    const k = await loadDspKernels(wasm());
    const [, big] = k.layout([16, 64 * 2 ** 20]);
    expect(k.exports.memory.buffer.byteLength).toBeGreaterThanOrEqual(big + 64 * 2 ** 20);
    expect(() => k.layout([5 * 2 ** 30])).toThrow(/could not grow/);
  });
});

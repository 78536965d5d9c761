// Joining decoded clips into the reel: equal-power crossfades of CROSSFADE_S at every join.
// Each join overlaps the last n samples of one part with the first n of the next (cos/sin gains, so a
// crossfade between uncorrelated material keeps its power), which is why the reel is (parts − 1)·n shorter
// than its parts.

/** Planar channels of one part; every part must have the same channel count. */
export type Part = Float32Array[];

export function joinedLength(lengths: readonly number[], fadeSamples: number): number {
  if (lengths.length === 0) return 0;
  return lengths.reduce((s, n) => s + n, 0) - (lengths.length - 1) * fadeSamples;
}

/** Joins parts with equal-power crossfades of `fadeSamples` (shortened where a part is shorter than twice that). */
export function joinWithCrossfades(parts: readonly Part[], fadeSamples: number): Part {
  const channels = parts[0]?.length ?? 0;
  if (parts.some((p) => p.length !== channels)) throw new RangeError('every part must have the same number of channels');
  const fades = parts.slice(1).map((p, i) => Math.max(0, Math.min(fadeSamples, Math.floor(p[0].length / 2), Math.floor(parts[i][0].length / 2))));
  const total = parts.reduce((s, p) => s + p[0].length, 0) - fades.reduce((s, f) => s + f, 0);
  const out = Array.from({ length: channels }, () => new Float32Array(total));
  let at = 0;
  parts.forEach((part, k) => {
    const fadeIn = k > 0 ? fades[k - 1] : 0;
    const start = at - fadeIn;
    for (let ch = 0; ch < channels; ch++) {
      const src = part[ch];
      const dst = out[ch];
      for (let i = 0; i < fadeIn; i++) {
        const theta = ((i + 0.5) / fadeIn) * (Math.PI / 2);
        // The part before was written at full gain: scale it down while this one comes up.
        dst[start + i] = dst[start + i] * Math.cos(theta) + src[i] * Math.sin(theta);
      }
      dst.set(src.subarray(fadeIn), start + fadeIn);
    }
    at = start + part[0].length;
  });
  return out;
}

// Separation quality against true stems. Two measures, both in dB over the whole signal (all channels pooled):
// - sdr: 10·log10(‖s‖² / ‖s − ŝ‖²), the global SDR of the Music Demixing Challenge (no distortion filter: a gain
//   error counts as error), a close, slightly stricter cousin of BSS-eval v4's framewise median SDR;
// - siSdr: scale-invariant SDR (Le Roux et al. 2019): ŝ is first projected on s, so only its shape counts.

/** Σ over channels; channels of `estimate` and `reference` pair up in order. */
function dots(reference: Float32Array[], estimate: Float32Array[]): { ss: number; ee: number; se: number; diff: number } {
  let ss = 0;
  let ee = 0;
  let se = 0;
  let diff = 0;
  for (let c = 0; c < reference.length; c++) {
    const s = reference[c];
    const e = estimate[c];
    if (e.length !== s.length) throw new RangeError(`channel ${c}: estimate has ${e.length} samples, reference ${s.length}`);
    for (let i = 0; i < s.length; i++) {
      ss += s[i] * s[i];
      ee += e[i] * e[i];
      se += s[i] * e[i];
      const d = s[i] - e[i];
      diff += d * d;
    }
  }
  return { ss, ee, se, diff };
}

const FLOOR = 1e-20;

/** Global SDR in dB; NaN when the reference is silent (the measure is undefined there). */
export function sdr(reference: Float32Array[], estimate: Float32Array[]): number {
  const { ss, diff } = dots(reference, estimate);
  if (ss <= FLOOR) return NaN;
  return 10 * Math.log10(ss / Math.max(diff, FLOOR));
}

/** Scale-invariant SDR in dB; NaN when the reference is silent. */
export function siSdr(reference: Float32Array[], estimate: Float32Array[]): number {
  const { ss, ee, se } = dots(reference, estimate);
  if (ss <= FLOOR) return NaN;
  const alpha = se / ss;
  // ‖αs‖² and ‖ŝ − αs‖² = ‖ŝ‖² − 2α⟨s,ŝ⟩ + α²‖s‖².
  const target = alpha * alpha * ss;
  const noise = Math.max(ee - 2 * alpha * se + alpha * alpha * ss, 0);
  if (target <= FLOOR) return -Infinity;
  return 10 * Math.log10(target / Math.max(noise, FLOOR));
}

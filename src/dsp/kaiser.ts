// The Kaiser window's Bessel function, shared by every windowed-sinc filter here (resampler, true-peak
// interpolator, half-band decimators).

/**
 * Zeroth-order modified Bessel function of the first kind, by its power series, summed until a term can no longer
 * change the float64 sum (each term is under 1e-17 of it), so the value does not depend on a chosen term count.
 */
export function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 64; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

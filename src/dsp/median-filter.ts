// Running median along one axis of a frame-major matrix, the core of harmonic/percussive separation. A sorted window
// updated by one insertion and one removal per step costs O(window) per value against O(window log window) for a sort.

/**
 * out[i] = median of input[j] for j within `radius` of i along the axis, the window cut at the ends (never padded,
 * so a value near an end is the median of the values that exist). Element i of the axis lives at offset + i·stride.
 * For an even count the upper middle value is taken.
 */
export function runningMedian(input: Float32Array, out: Float32Array, offset: number, stride: number, count: number, radius: number, sorted: Float64Array): void {
  let len = 0;
  const insert = (v: number) => {
    let lo = 0;
    let hi = len;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    sorted.copyWithin(lo + 1, lo, len);
    sorted[lo] = v;
    len++;
  };
  const remove = (v: number) => {
    let lo = 0;
    let hi = len;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    sorted.copyWithin(lo, lo + 1, len);
    len--;
  };
  const first = Math.min(radius, count - 1);
  for (let j = 0; j <= first; j++) insert(Math.fround(input[offset + j * stride]));
  for (let i = 0; i < count; i++) {
    out[offset + i * stride] = sorted[len >> 1];
    const incoming = i + radius + 1;
    const outgoing = i - radius;
    if (incoming < count) insert(Math.fround(input[offset + incoming * stride]));
    if (outgoing >= 0) remove(Math.fround(input[offset + outgoing * stride]));
  }
}

/** Median along time (per bin) of a frames × bins matrix. */
export function medianAlongTime(values: Float32Array, frames: number, bins: number, radius: number): Float32Array {
  const out = new Float32Array(values.length);
  const sorted = new Float64Array(2 * radius + 2);
  for (let k = 0; k < bins; k++) runningMedian(values, out, k, bins, frames, radius, sorted);
  return out;
}

/** Median along frequency (per frame) of a frames × bins matrix. */
export function medianAlongFrequency(values: Float32Array, frames: number, bins: number, radius: number): Float32Array {
  const out = new Float32Array(values.length);
  const sorted = new Float64Array(2 * radius + 2);
  for (let t = 0; t < frames; t++) runningMedian(values, out, t * bins, 1, bins, radius, sorted);
  return out;
}

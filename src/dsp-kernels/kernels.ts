// WebAssembly SIMD kernels for the hot loops of the track analysis (AssemblyScript, compiled by
// scripts/build-kernels.mjs into src/dsp/kernels.wasm). Hand-written because no package offers these
// fused loops; src/dsp/kernels.ts loads them and src/dsp keeps plain-TypeScript twins for Node and
// browsers without WebAssembly SIMD.
//
// Memory is laid out by the caller: every pointer is a byte offset into this module's memory.

/** First byte the caller may use (after this module's static data). */
export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}

/** Grows the memory to at least `bytes`; false if the engine refused. */
export function reserve(bytes: usize): bool {
  const have = <usize>memory.size() << 16;
  if (bytes <= have) return true;
  const pages = <i32>((bytes - have + 0xffff) >> 16);
  return memory.grow(pages) >= 0;
}

/** 16-bit PCM to float (x / 32768), n samples. */
export function widenPcm16(src: usize, dst: usize, n: i32): void {
  const scale = f32x4.splat(1.0 / 32768.0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const v = v128.load(src + (<usize>i << 1));
    const lo = f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(v));
    const hi = f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(v));
    v128.store(dst + (<usize>i << 2), f32x4.mul(lo, scale));
    v128.store(dst + (<usize>i << 2) + 16, f32x4.mul(hi, scale));
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), <f32>load<i16>(src + (<usize>i << 1)) / 32768.0);
}

// K-weighting coefficients (set once per sample rate): pre-filter b0 b1 b2 a1 a2, RLB high-pass a1 a2
// (its numerator is 1, −2, 1).
let pb0: f64 = 0, pb1: f64 = 0, pb2: f64 = 0, pa1: f64 = 0, pa2: f64 = 0, ha1: f64 = 0, ha2: f64 = 0;

export function setKWeighting(b0: f64, b1: f64, b2: f64, a1: f64, a2: f64, hA1: f64, hA2: f64): void {
  pb0 = b0; pb1 = b1; pb2 = b2; pa1 = a1; pa2 = a2; ha1 = hA1; ha2 = hA2;
}

@inline function flush(z: f64): f64 {
  return abs(z) < 1e-30 ? 0 : z;
}

/**
 * One 100 ms block of a stereo track, samples [from, to) of the float channels at l and r:
 * - the K-weighted energy of both channels (state: 8 f64 at `state`, stage 1 then 2, left then right),
 *   the same double-precision recursion as StereoKWeightingFilter, both channels in one f64x2;
 * - Σ L², Σ R², Σ L·R (f64), the peak |sample|;
 * - the downmix 0.5·(L + R) into the f32 array at mono.
 * Writes energy, ll, rr, lr, peak as 5 f64 at out.
 */
export function scanStereoBlock(l: usize, r: usize, mono: usize, from: i32, to: i32, state: usize, out: usize): void {
  const b0 = f64x2.splat(pb0), b1 = f64x2.splat(pb1), b2 = f64x2.splat(pb2), a1 = f64x2.splat(pa1), a2 = f64x2.splat(pa2);
  const h1 = f64x2.splat(ha1), h2 = f64x2.splat(ha2), two = f64x2.splat(2.0);
  let z1 = v128.load(state), z2 = v128.load(state, 16), w1 = v128.load(state, 32), w2 = v128.load(state, 48);
  let energy = f64x2.splat(0);
  for (let i = from; i < to; i++) {
    const p = <usize>i << 2;
    const x = f64x2.replace_lane(f64x2.splat(<f64>load<f32>(l + p)), 1, <f64>load<f32>(r + p));
    const y1 = f64x2.add(f64x2.mul(b0, x), z1);
    z1 = f64x2.sub(f64x2.add(f64x2.mul(b1, x), z2), f64x2.mul(a1, y1));
    z2 = f64x2.sub(f64x2.mul(b2, x), f64x2.mul(a2, y1));
    const y2 = f64x2.add(y1, w1);
    w1 = f64x2.sub(f64x2.sub(w2, f64x2.mul(two, y1)), f64x2.mul(h1, y2));
    w2 = f64x2.sub(y1, f64x2.mul(h2, y2));
    energy = f64x2.add(energy, f64x2.mul(y2, y2));
  }
  v128.store(state, f64x2.replace_lane(f64x2.splat(flush(f64x2.extract_lane(z1, 0))), 1, flush(f64x2.extract_lane(z1, 1))));
  v128.store(state, f64x2.replace_lane(f64x2.splat(flush(f64x2.extract_lane(z2, 0))), 1, flush(f64x2.extract_lane(z2, 1))), 16);
  v128.store(state, f64x2.replace_lane(f64x2.splat(flush(f64x2.extract_lane(w1, 0))), 1, flush(f64x2.extract_lane(w1, 1))), 32);
  v128.store(state, f64x2.replace_lane(f64x2.splat(flush(f64x2.extract_lane(w2, 0))), 1, flush(f64x2.extract_lane(w2, 1))), 48);

  // Level, image and downmix, four samples at a time; products summed in double precision.
  const half = f32x4.splat(0.5);
  let ll = f64x2.splat(0), rr = f64x2.splat(0), lr = f64x2.splat(0);
  let high = f32x4.splat(0), low = f32x4.splat(0);
  let i = from;
  for (; i + 4 <= to; i += 4) {
    const p = <usize>i << 2;
    const vl = v128.load(l + p);
    const vr = v128.load(r + p);
    const pll = f32x4.mul(vl, vl);
    const prr = f32x4.mul(vr, vr);
    const plr = f32x4.mul(vl, vr);
    ll = f64x2.add(ll, f64x2.add(f64x2.promote_low_f32x4(pll), f64x2.promote_low_f32x4(i64x2.shuffle(pll, pll, 1, 0))));
    rr = f64x2.add(rr, f64x2.add(f64x2.promote_low_f32x4(prr), f64x2.promote_low_f32x4(i64x2.shuffle(prr, prr, 1, 0))));
    lr = f64x2.add(lr, f64x2.add(f64x2.promote_low_f32x4(plr), f64x2.promote_low_f32x4(i64x2.shuffle(plr, plr, 1, 0))));
    high = f32x4.max(high, f32x4.max(vl, vr));
    low = f32x4.min(low, f32x4.min(vl, vr));
    v128.store(mono + p, f32x4.mul(half, f32x4.add(vl, vr)));
  }
  let sll = f64x2.extract_lane(ll, 0) + f64x2.extract_lane(ll, 1);
  let srr = f64x2.extract_lane(rr, 0) + f64x2.extract_lane(rr, 1);
  let slr = f64x2.extract_lane(lr, 0) + f64x2.extract_lane(lr, 1);
  let hi = max(max(f32x4.extract_lane(high, 0), f32x4.extract_lane(high, 1)), max(f32x4.extract_lane(high, 2), f32x4.extract_lane(high, 3)));
  let lo = min(min(f32x4.extract_lane(low, 0), f32x4.extract_lane(low, 1)), min(f32x4.extract_lane(low, 2), f32x4.extract_lane(low, 3)));
  for (; i < to; i++) {
    const p = <usize>i << 2;
    const a = load<f32>(l + p);
    const b = load<f32>(r + p);
    sll += <f64>a * a;
    srr += <f64>b * b;
    slr += <f64>a * b;
    hi = max(hi, max(a, b));
    lo = min(lo, min(a, b));
    store<f32>(mono + p, 0.5 * (a + b));
  }
  store<f64>(out, f64x2.extract_lane(energy, 0) + f64x2.extract_lane(energy, 1));
  store<f64>(out, sll, 8);
  store<f64>(out, srr, 16);
  store<f64>(out, slr, 24);
  store<f64>(out, max(<f64>hi, -<f64>lo), 32);
}

/** scanStereoBlock for one channel: K-weighted energy (state: 4 f64), Σ x², peak; the channel is its own downmix. */
export function scanMonoBlock(x: usize, from: i32, to: i32, state: usize, out: usize): void {
  let s1z1 = load<f64>(state), s1z2 = load<f64>(state, 8), s2z1 = load<f64>(state, 16), s2z2 = load<f64>(state, 24);
  let energy: f64 = 0;
  for (let i = from; i < to; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    const y1 = pb0 * v + s1z1;
    s1z1 = pb1 * v - pa1 * y1 + s1z2;
    s1z2 = pb2 * v - pa2 * y1;
    const y2 = y1 + s2z1;
    s2z1 = -2.0 * y1 - ha1 * y2 + s2z2;
    s2z2 = y1 - ha2 * y2;
    energy += y2 * y2;
  }
  store<f64>(state, flush(s1z1));
  store<f64>(state, flush(s1z2), 8);
  store<f64>(state, flush(s2z1), 16);
  store<f64>(state, flush(s2z2), 24);
  let sq = f64x2.splat(0);
  let high = f32x4.splat(0), low = f32x4.splat(0);
  let i = from;
  for (; i + 4 <= to; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const p = f32x4.mul(v, v);
    sq = f64x2.add(sq, f64x2.add(f64x2.promote_low_f32x4(p), f64x2.promote_low_f32x4(i64x2.shuffle(p, p, 1, 0))));
    high = f32x4.max(high, v);
    low = f32x4.min(low, v);
  }
  let s = f64x2.extract_lane(sq, 0) + f64x2.extract_lane(sq, 1);
  let hi = max(max(f32x4.extract_lane(high, 0), f32x4.extract_lane(high, 1)), max(f32x4.extract_lane(high, 2), f32x4.extract_lane(high, 3)));
  let lo = min(min(f32x4.extract_lane(low, 0), f32x4.extract_lane(low, 1)), min(f32x4.extract_lane(low, 2), f32x4.extract_lane(low, 3)));
  for (; i < to; i++) {
    const a = load<f32>(x + (<usize>i << 2));
    s += <f64>a * a;
    hi = max(hi, a);
    lo = min(lo, a);
  }
  store<f64>(out, energy);
  store<f64>(out, s, 8);
  store<f64>(out, max(<f64>hi, -<f64>lo), 32);
}

/** Splits n f32 samples at src into even-indexed (⌈n/2⌉) and odd-indexed (⌊n/2⌋) ones. */
export function deinterleave(src: usize, n: i32, even: usize, odd: usize): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const a = v128.load(src + (<usize>i << 2));
    const b = v128.load(src + (<usize>i << 2) + 16);
    v128.store(even + (<usize>i << 1), i32x4.shuffle(a, b, 0, 2, 4, 6));
    v128.store(odd + (<usize>i << 1), i32x4.shuffle(a, b, 1, 3, 5, 7));
  }
  for (; i < n; i++) {
    const v = load<f32>(src + (<usize>i << 2));
    if (i & 1) store<f32>(odd + (<usize>(i >> 1) << 2), v);
    else store<f32>(even + (<usize>(i >> 1) << 2), v);
  }
}

/** Splits n interleaved stereo i16 samples at src into the left (even) and right (odd) ones, n/2 each (n even). */
export function deinterleave16(src: usize, n: i32, even: usize, odd: usize): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const a = v128.load(src + (<usize>i << 1));
    const b = v128.load(src + (<usize>i << 1) + 16);
    v128.store(even + <usize>i, i16x8.shuffle(a, b, 0, 2, 4, 6, 8, 10, 12, 14));
    v128.store(odd + <usize>i, i16x8.shuffle(a, b, 1, 3, 5, 7, 9, 11, 13, 15));
  }
  for (; i + 1 < n; i += 2) {
    store<i16>(even + <usize>i, load<i16>(src + (<usize>i << 1)));
    store<i16>(odd + <usize>i, load<i16>(src + (<usize>i << 1) + 2));
  }
}

/**
 * Half-band decimation by two, outputs [first, end) of a signal given as its even (x[2k]) and odd (x[2k+1]) samples:
 * out[n] = ½·x[2n] + Σ_j taps[j]·(x[2n−2j−1] + x[2n+2j+1]) = ½·E[n] + Σ_j taps[j]·(O[n−j−1] + O[n+j]),
 * with `count` f32 taps at taps. The caller keeps every read inside the arrays (n − count ≥ 0, n + count − 1 < |O|).
 * Four outputs per step; returns the first output not written.
 */
export function halfBand(even: usize, odd: usize, out: usize, first: i32, end: i32, taps: usize, count: i32): i32 {
  const centre = f32x4.splat(0.5);
  let n = first;
  for (; n + 4 <= end; n += 4) {
    let acc = f32x4.mul(centre, v128.load(even + (<usize>n << 2)));
    for (let j = 0; j < count; j++) {
      const h = v128.load32_splat(taps + (<usize>j << 2));
      const before = v128.load(odd + (<usize>(n - j - 1) << 2));
      const after = v128.load(odd + (<usize>(n + j) << 2));
      acc = f32x4.add(acc, f32x4.mul(h, f32x4.add(before, after)));
    }
    v128.store(out + (<usize>n << 2), acc);
  }
  return n;
}

/**
 * One STFT frame's share of the spectral features, from PFFFT's ordered spectrum of the unwindowed frame at spec
 * ([X_0, X_{N/2}, re X_1, im X_1, …], N = 2·half floats):
 * - the periodic Hann window applied in frequency, W_k = X_k/2 − (X_{k−1} + X_{k+1})/4, and the power
 *   |W_k|²·(edge at k = 0 and k = half, inner elsewhere) into the f32 array at power (half + 1 bins);
 * - each bin's power added to the f64 array at meanPower;
 * - Σ √p and Σ k·√p (the centroid's sums) into out[0], out[1] (f64);
 * - the mel bands into the f64 array at mel (runCount + 1 entries are enough): bins [runEnd[r−1], runEnd[r]) feed
 *   band runBand[r] with the f32 weights at lower and band runBand[r] + 1 with those at upper (runBand −1: no band).
 */
export function spectrumFrame(
  spec: usize,
  half: i32,
  edge: f64,
  inner: f64,
  power: usize,
  meanPower: usize,
  lower: usize,
  upper: usize,
  runEnd: usize,
  runBand: usize,
  runCount: i32,
  bands: i32,
  mel: usize,
  out: usize,
): void {
  // Edge bins: X_0 and X_{N/2} are real; X_{−1} = conj X_1 and X_{N/2+1} = conj X_{N/2−1}.
  const nyquist = load<f32>(spec, 4);
  const dc = 0.5 * load<f32>(spec) - 0.5 * load<f32>(spec, 8);
  store<f32>(power, <f32>(dc * dc * edge));
  const top = 0.5 * nyquist - 0.5 * load<f32>(spec + (<usize>(half - 1) << 3));
  store<f32>(power + (<usize>half << 2), <f32>(top * top * edge));
  // Bin 1's left neighbour is X_0 (imaginary part 0), bin half − 1's right one is X_{N/2}: done alone.
  {
    const re = load<f32>(spec, 8), im = load<f32>(spec, 12);
    const wr = 0.5 * re - 0.25 * (load<f32>(spec) + load<f32>(spec, 16));
    const wi = 0.5 * im - 0.25 * (0 + load<f32>(spec, 20));
    store<f32>(power, <f32>((wr * wr + wi * wi) * inner), 4);
  }
  if (half - 1 > 1) {
    const at = spec + (<usize>(half - 1) << 3);
    const re = load<f32>(at), im = load<f32>(at, 4);
    const wr = 0.5 * re - 0.25 * (load<f32>(at - 8) + nyquist);
    const wi = 0.5 * im - 0.25 * (load<f32>(at - 4) + 0);
    store<f32>(power + (<usize>(half - 1) << 2), <f32>((wr * wr + wi * wi) * inner));
  }
  // Bins 2 … half − 2, two complex values per vector.
  const h = f32x4.splat(0.5), q = f32x4.splat(0.25), scale = f32x4.splat(<f32>inner);
  let k = 2;
  for (; k + 2 <= half - 1; k += 2) {
    const at = spec + (<usize>k << 3);
    const w = f32x4.sub(f32x4.mul(h, v128.load(at)), f32x4.mul(q, f32x4.add(v128.load(at - 8), v128.load(at + 8))));
    const sq = f32x4.mul(w, w);
    // (re² + im²) of both bins, in lanes 0 and 1.
    const p = f32x4.mul(f32x4.add(i32x4.shuffle(sq, sq, 0, 2, 0, 2), i32x4.shuffle(sq, sq, 1, 3, 1, 3)), scale);
    v128.store64_lane(power + (<usize>k << 2), p, 0);
  }
  for (; k < half - 1; k++) {
    const at = spec + (<usize>k << 3);
    const wr = 0.5 * load<f32>(at) - 0.25 * (load<f32>(at - 8) + load<f32>(at + 8));
    const wi = 0.5 * load<f32>(at, 4) - 0.25 * (load<f32>(at - 4) + load<f32>(at + 12));
    store<f32>(power + (<usize>k << 2), <f32>((wr * wr + wi * wi) * inner));
  }

  // Mean spectrum and the centroid's sums, four bins at a time.
  const bins = half + 1;
  let magnitudes = f32x4.splat(0), weighted = f32x4.splat(0);
  let index = f32x4(0, 1, 2, 3);
  const four = f32x4.splat(4);
  let b = 0;
  for (; b + 4 <= bins; b += 4) {
    const p = v128.load(power + (<usize>b << 2));
    const m = meanPower + (<usize>b << 3);
    v128.store(m, f64x2.add(v128.load(m), f64x2.promote_low_f32x4(p)));
    v128.store(m, f64x2.add(v128.load(m, 16), f64x2.promote_low_f32x4(i64x2.shuffle(p, p, 1, 0))), 16);
    const mag = f32x4.sqrt(p);
    magnitudes = f32x4.add(magnitudes, mag);
    weighted = f32x4.add(weighted, f32x4.mul(mag, index));
    index = f32x4.add(index, four);
  }
  let magnitudeSum: f64 = <f64>f32x4.extract_lane(magnitudes, 0) + <f64>f32x4.extract_lane(magnitudes, 1) + <f64>f32x4.extract_lane(magnitudes, 2) + <f64>f32x4.extract_lane(magnitudes, 3);
  let weightedSum: f64 = <f64>f32x4.extract_lane(weighted, 0) + <f64>f32x4.extract_lane(weighted, 1) + <f64>f32x4.extract_lane(weighted, 2) + <f64>f32x4.extract_lane(weighted, 3);
  for (; b < bins; b++) {
    const p = load<f32>(power + (<usize>b << 2));
    store<f64>(meanPower + (<usize>b << 3), load<f64>(meanPower + (<usize>b << 3)) + <f64>p);
    const mag = <f64>sqrt(p);
    magnitudeSum += mag;
    weightedSum += mag * <f64>b;
  }
  store<f64>(out, magnitudeSum);
  store<f64>(out, weightedSum, 8);

  // Mel bands: per run of bins, two dot products.
  memory.fill(mel, 0, <usize>(bands + 1) << 3);
  let from = 0;
  for (let r = 0; r < runCount; r++) {
    const end = load<i32>(runEnd + (<usize>r << 2));
    const band = load<i32>(runBand + (<usize>r << 2));
    if (band >= 0) {
      let lo = f32x4.splat(0), up = f32x4.splat(0);
      let j = from;
      for (; j + 4 <= end; j += 4) {
        const p = v128.load(power + (<usize>j << 2));
        lo = f32x4.add(lo, f32x4.mul(p, v128.load(lower + (<usize>j << 2))));
        up = f32x4.add(up, f32x4.mul(p, v128.load(upper + (<usize>j << 2))));
      }
      let sl: f64 = <f64>f32x4.extract_lane(lo, 0) + <f64>f32x4.extract_lane(lo, 1) + <f64>f32x4.extract_lane(lo, 2) + <f64>f32x4.extract_lane(lo, 3);
      let su: f64 = <f64>f32x4.extract_lane(up, 0) + <f64>f32x4.extract_lane(up, 1) + <f64>f32x4.extract_lane(up, 2) + <f64>f32x4.extract_lane(up, 3);
      for (; j < end; j++) {
        const p = <f64>load<f32>(power + (<usize>j << 2));
        sl += p * <f64>load<f32>(lower + (<usize>j << 2));
        su += p * <f64>load<f32>(upper + (<usize>j << 2));
      }
      const ml = mel + (<usize>band << 3);
      store<f64>(ml, load<f64>(ml) + sl);
      store<f64>(ml, load<f64>(ml, 8) + su, 8);
    }
    from = end;
  }
}

// ---------------------------------------------------------------------------------------------
// Loudness and mastering. The K-weighting and the limiter do the same double-precision arithmetic, in the
// same order, as the TypeScript loops they stand in for (KWeightingFilter, limitWithLookahead), so both give
// identical results; the true-peak interpolator runs in single precision, four centres at a time.

/**
 * K-weighted energy of samples [0, n) of one or two f32 channels (r = 0: mono), both channels in one f64x2 with
 * KWeightingFilter's operation order; state: 8 f64 (z1, z2, w1, w2 as left/right pairs). Returns Σ left + Σ right.
 * With `flushAtEnd` the state's denormals are zeroed, as KWeightingFilter does at the end of each call.
 */
export function kWeightedEnergy(l: usize, r: usize, n: i32, state: usize, flushAtEnd: bool): f64 {
  const b0 = f64x2.splat(pb0), b1 = f64x2.splat(pb1), b2 = f64x2.splat(pb2), a1 = f64x2.splat(pa1), a2 = f64x2.splat(pa2);
  const h1 = f64x2.splat(ha1), h2 = f64x2.splat(ha2), minusTwo = f64x2.splat(-2.0);
  let z1 = v128.load(state), z2 = v128.load(state, 16), w1 = v128.load(state, 32), w2 = v128.load(state, 48);
  let energy = f64x2.splat(0);
  const right = r != 0 ? r : l;
  for (let i = 0; i < n; i++) {
    const p = <usize>i << 2;
    const x = f64x2.replace_lane(f64x2.splat(<f64>load<f32>(l + p)), 1, <f64>load<f32>(right + p));
    const y1 = f64x2.add(f64x2.mul(b0, x), z1);
    z1 = f64x2.add(f64x2.sub(f64x2.mul(b1, x), f64x2.mul(a1, y1)), z2);
    z2 = f64x2.sub(f64x2.mul(b2, x), f64x2.mul(a2, y1));
    const y2 = f64x2.add(y1, w1);
    w1 = f64x2.add(f64x2.sub(f64x2.mul(minusTwo, y1), f64x2.mul(h1, y2)), w2);
    w2 = f64x2.sub(y1, f64x2.mul(h2, y2));
    energy = f64x2.add(energy, f64x2.mul(y2, y2));
  }
  if (flushAtEnd) {
    z1 = f64x2.replace_lane(f64x2.splat(flush(f64x2.extract_lane(z1, 0))), 1, flush(f64x2.extract_lane(z1, 1)));
    z2 = f64x2.replace_lane(f64x2.splat(flush(f64x2.extract_lane(z2, 0))), 1, flush(f64x2.extract_lane(z2, 1)));
    w1 = f64x2.replace_lane(f64x2.splat(flush(f64x2.extract_lane(w1, 0))), 1, flush(f64x2.extract_lane(w1, 1)));
    w2 = f64x2.replace_lane(f64x2.splat(flush(f64x2.extract_lane(w2, 0))), 1, flush(f64x2.extract_lane(w2, 1)));
  }
  v128.store(state, z1);
  v128.store(state, z2, 16);
  v128.store(state, w1, 32);
  v128.store(state, w2, 48);
  const el = f64x2.extract_lane(energy, 0);
  return r != 0 ? el + f64x2.extract_lane(energy, 1) : el;
}

/**
 * limitWithLookahead's loop over n samples: f32 inputs l, r, env, ahead; f32 outputs outL, outR. state: released,
 * boxSum, boxPos (as f64), then the box of `la` f64.
 */
export function limitLookahead(l: usize, r: usize, env: usize, ahead: usize, outL: usize, outR: usize, n: i32, gain: f64, ceiling: f64, aR: f64, la: i32, state: usize): void {
  let released = load<f64>(state), boxSum = load<f64>(state, 8), boxPos = <i32>load<f64>(state, 16);
  const box = state + 24;
  const laF = <f64>la;
  for (let i = 0; i < n; i++) {
    const p4 = <usize>i << 2;
    const pa = gain * <f64>load<f32>(ahead + p4);
    const target: f64 = pa > ceiling ? <f64><f32>(ceiling / pa) : 1.0;
    released = target < released ? target : target + aR * (released - target);
    const slot = box + (<usize>boxPos << 3);
    boxSum += released - load<f64>(slot);
    store<f64>(slot, released);
    if (++boxPos == la) boxPos = 0;
    const pe = gain * <f64>load<f32>(env + p4);
    const required: f64 = pe > ceiling ? <f64><f32>(ceiling / pe) : 1.0;
    const smoothed = boxSum / laF;
    const g = gain * (smoothed < required ? smoothed : required);
    store<f32>(outL + p4, <f32>(<f64>load<f32>(l + p4) * g));
    store<f32>(outR + p4, <f32>(<f64>load<f32>(r + p4) * g));
  }
  store<f64>(state, released);
  store<f64>(state, boxSum, 8);
  store<f64>(state, <f64>boxPos, 16);
}

/**
 * scanFourTimesThirtyTwoTaps for centres [from, to) of the f32 signal at x (which holds 15 samples before `from` and
 * 16 after `to`), four centres per step in single precision (the TypeScript loop sums in double; the two agree to
 * about 1e-6 relative, 1e-5 dB): taps are 16 pair sums, 16 pair differences, 16 half-sample taps (f32).
 * env = 0: returns the running maximum, starting at `peak`. Otherwise stores each centre's own peak (the sample
 * included) into the f32 envelope at env, index c - from, where larger, and returns `peak`.
 */
export function truePeakFourByThirtyTwo(x: usize, from: i32, to: i32, taps: usize, peak: f32, env: usize): f32 {
  const halfV = f32x4.splat(0.5);
  let best = f32x4.splat(peak);
  let c = from;
  // Eight centres per step, as two independent groups of four: twice the work in flight per tap.
  for (; c + 8 <= to; c += 8) {
    let sum = f32x4.splat(0), diff = f32x4.splat(0), mid = f32x4.splat(0);
    let sum2 = f32x4.splat(0), diff2 = f32x4.splat(0), mid2 = f32x4.splat(0);
    let lp = x + (<usize>(c - 15) << 2);
    let hp = x + (<usize>(c + 16) << 2);
    for (let k = 0; k < 16; k++) {
      const lo = v128.load(lp), lo2 = v128.load(lp, 16);
      const hi = v128.load(hp), hi2 = v128.load(hp, 16);
      const t = taps + (<usize>k << 2);
      const ts = v128.load32_splat(t), td = v128.load32_splat(t + 64), tm = v128.load32_splat(t + 128);
      const a = f32x4.add(lo, hi), a2 = f32x4.add(lo2, hi2);
      sum = f32x4.add(sum, f32x4.mul(ts, a));
      sum2 = f32x4.add(sum2, f32x4.mul(ts, a2));
      diff = f32x4.add(diff, f32x4.mul(td, f32x4.sub(lo, hi)));
      diff2 = f32x4.add(diff2, f32x4.mul(td, f32x4.sub(lo2, hi2)));
      mid = f32x4.add(mid, f32x4.mul(tm, a));
      mid2 = f32x4.add(mid2, f32x4.mul(tm, a2));
      lp += 4;
      hp -= 4;
    }
    const v = f32x4.pmax(f32x4.mul(halfV, f32x4.add(f32x4.abs(sum), f32x4.abs(diff))), f32x4.abs(mid));
    const v2 = f32x4.pmax(f32x4.mul(halfV, f32x4.add(f32x4.abs(sum2), f32x4.abs(diff2))), f32x4.abs(mid2));
    if (env == 0) {
      best = f32x4.pmax(best, f32x4.pmax(v, v2));
    } else {
      const e = env + (<usize>(c - from) << 2);
      const own = x + (<usize>c << 2);
      v128.store(e, f32x4.pmax(v128.load(e), f32x4.pmax(f32x4.abs(v128.load(own)), v)));
      v128.store(e, f32x4.pmax(v128.load(e, 16), f32x4.pmax(f32x4.abs(v128.load(own, 16)), v2)), 16);
    }
  }
  let result = max(max(f32x4.extract_lane(best, 0), f32x4.extract_lane(best, 1)), max(f32x4.extract_lane(best, 2), f32x4.extract_lane(best, 3)));
  for (; c < to; c++) {
    let sum: f32 = 0, diff: f32 = 0, mid: f32 = 0;
    for (let k = 0; k < 16; k++) {
      const lo = load<f32>(x + (<usize>(c - 15 + k) << 2));
      const hi = load<f32>(x + (<usize>(c + 16 - k) << 2));
      const t = taps + (<usize>k << 2);
      sum += load<f32>(t) * (lo + hi);
      diff += load<f32>(t, 64) * (lo - hi);
      mid += load<f32>(t, 128) * (lo + hi);
    }
    let v: f32 = 0.5 * (abs(sum) + abs(diff));
    if (abs(mid) > v) v = abs(mid);
    if (env == 0) {
      if (v > result) result = v;
    } else {
      const own = abs(load<f32>(x + (<usize>c << 2)));
      if (own > v) v = own;
      const e = env + (<usize>(c - from) << 2);
      if (v > load<f32>(e)) store<f32>(e, v);
    }
  }
  return result;
}

/** Largest |x| over n f32 samples at x, at least `peak`. */
export function absPeak(x: usize, n: i32, peak: f32): f32 {
  let m = f32x4.splat(peak);
  let i = 0;
  // pmax keeps m when the sample is NaN, as the TypeScript comparison does.
  for (; i + 4 <= n; i += 4) m = f32x4.pmax(m, f32x4.abs(v128.load(x + (<usize>i << 2))));
  let r = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  for (; i < n; i++) {
    const a = abs(load<f32>(x + (<usize>i << 2)));
    if (a > r) r = a;
  }
  return r;
}

/**
 * The master bus's lookahead Limiter (src/dsp/dynamics.ts) over n frames of l and r, in place, with its exact
 * arithmetic. state (f64 unless noted): 0 delayPos, 8 dqHead, 16 dqCount, 24 time, 32 released, 40 boxPos, 48 boxSum,
 * then from 64: delayL (la f32), delayR (la f32), dqGain (la + 2 f64), dqTime (la + 2 f64), box (la f64), each
 * 16-byte aligned.
 */
export function limiterProcess(l: usize, r: usize, n: i32, ceiling: f64, clamp: f64, aR: f64, la: i32, state: usize): void {
  const delayL = state + 64;
  const delayR = delayL + ((<usize>la * 4 + 15) & ~15);
  const dqGain = delayR + ((<usize>la * 4 + 15) & ~15);
  const dqSize = la + 2;
  const dqTime = dqGain + ((<usize>dqSize * 8 + 15) & ~15);
  const box = dqTime + ((<usize>dqSize * 8 + 15) & ~15);
  const window = <f64>(la + 1);
  const laF = <f64>la;
  // 1 − aR, as the TypeScript computes it each step.
  const step = 1 - aR;
  let delayPos = <i32>load<f64>(state), dqHead = <i32>load<f64>(state, 8), dqCount = <i32>load<f64>(state, 16);
  let time = load<f64>(state, 24), released = load<f64>(state, 32), boxPos = <i32>load<f64>(state, 40), boxSum = load<f64>(state, 48);
  for (let i = 0; i < n; i++) {
    const p = <usize>i << 2;
    const lv = <f64>load<f32>(l + p), rv = <f64>load<f32>(r + p);
    const al = lv < 0 ? -lv : lv;
    const ar = rv < 0 ? -rv : rv;
    const peak = al > ar ? al : ar;
    const required = peak > ceiling ? ceiling / peak : 1.0;
    let held: f64 = 1.0;
    if (required == 1.0 && dqCount == 1 && load<f64>(dqGain + (<usize>dqHead << 3)) == 1.0) {
      // No over in the window (most samples): the steps below would pop the one entry, a 1, and push this sample's 1
      // into the same slot, which then cannot expire.
      store<f64>(dqTime + (<usize>dqHead << 3), time);
    } else {
      while (dqCount > 0) {
        let back = dqHead + dqCount - 1;
        if (back >= dqSize) back -= dqSize;
        if (load<f64>(dqGain + (<usize>back << 3)) < required) break;
        dqCount--;
      }
      let tail = dqHead + dqCount;
      if (tail >= dqSize) tail -= dqSize;
      store<f64>(dqGain + (<usize>tail << 3), required);
      store<f64>(dqTime + (<usize>tail << 3), time);
      dqCount++;
      if (load<f64>(dqTime + (<usize>dqHead << 3)) <= time - window) {
        if (++dqHead == dqSize) dqHead = 0;
        dqCount--;
      }
      held = load<f64>(dqGain + (<usize>dqHead << 3));
    }
    released = held < released ? held : released + step * (held - released);
    const slot = box + (<usize>boxPos << 3);
    boxSum += released - load<f64>(slot);
    store<f64>(slot, released);
    if (++boxPos == la) {
      boxPos = 0;
      boxSum = 0;
      for (let k = 0; k < la; k++) boxSum += load<f64>(box + (<usize>k << 3));
    }
    const gain = boxSum / laF;
    const d = <usize>delayPos << 2;
    let outL = <f64>load<f32>(delayL + d) * gain;
    let outR = <f64>load<f32>(delayR + d) * gain;
    if (outL > clamp) outL = clamp;
    else if (outL < -clamp) outL = -clamp;
    if (outR > clamp) outR = clamp;
    else if (outR < -clamp) outR = -clamp;
    store<f32>(delayL + d, <f32>lv);
    store<f32>(delayR + d, <f32>rv);
    if (++delayPos == la) delayPos = 0;
    store<f32>(l + p, <f32>outL);
    store<f32>(r + p, <f32>outR);
    time += 1;
  }
  store<f64>(state, <f64>delayPos);
  store<f64>(state, <f64>dqHead, 8);
  store<f64>(state, <f64>dqCount, 16);
  store<f64>(state, time, 24);
  store<f64>(state, released, 32);
  store<f64>(state, <f64>boxPos, 40);
  store<f64>(state, boxSum, 48);
}

/**
 * dst[i] += f32(src[i] · gain) for n f32 samples: a channel strip that only scales, added into the bus with the same
 * roundings as ChannelStrip.addPlain (the product in double, rounded to f32, then an f32 sum).
 */
export function addScaled(src: usize, dst: usize, n: i32, gain: f64): void {
  const g = f64x2.splat(gain);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = <usize>i << 2;
    const x = v128.load(src + p);
    const lo = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(x), g));
    const hi = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(i64x2.shuffle(x, x, 1, 0)), g));
    v128.store(dst + p, f32x4.add(v128.load(dst + p), i64x2.shuffle(lo, hi, 0, 2)));
  }
  for (; i < n; i++) {
    const p = <usize>i << 2;
    store<f32>(dst + p, load<f32>(dst + p) + <f32>(<f64>load<f32>(src + p) * gain));
  }
}

/** Replaces NaN and ±Infinity among n f32 samples at x with 0, in place; returns how many there were. */
export function zeroNonFinite(x: usize, n: i32): i32 {
  const zero = f32x4.splat(0);
  let bad = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = x + (<usize>i << 2);
    const v = v128.load(p);
    // v − v is 0 for every finite number and NaN for NaN and ±Infinity (NaN ≠ 0).
    const mask = f32x4.ne(f32x4.sub(v, v), zero);
    if (v128.any_true(mask)) {
      v128.store(p, v128.andnot(v, mask));
      bad = i32x4.sub(bad, mask);
    }
  }
  let count = i32x4.extract_lane(bad, 0) + i32x4.extract_lane(bad, 1) + i32x4.extract_lane(bad, 2) + i32x4.extract_lane(bad, 3);
  for (; i < n; i++) {
    const p = x + (<usize>i << 2);
    const v = load<f32>(p);
    if (v - v != 0) {
      store<f32>(p, 0);
      count++;
    }
  }
  return count;
}

/** Smallest and largest of n f32 samples at x, stored as two f32 at out (n ≥ 1). */
export function minMax(x: usize, n: i32, out: usize): void {
  let lo = f32x4.splat(Infinity), hi = f32x4.splat(-Infinity);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    lo = f32x4.pmin(lo, v);
    hi = f32x4.pmax(hi, v);
  }
  let mn = min(min(f32x4.extract_lane(lo, 0), f32x4.extract_lane(lo, 1)), min(f32x4.extract_lane(lo, 2), f32x4.extract_lane(lo, 3)));
  let mx = max(max(f32x4.extract_lane(hi, 0), f32x4.extract_lane(hi, 1)), max(f32x4.extract_lane(hi, 2), f32x4.extract_lane(hi, 3)));
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  store<f32>(out, mn);
  store<f32>(out, mx, 4);
}

/** The smallest and largest of n 16-bit integers at x (of interleaved channels, all together), as i32 at out and out + 4. */
export function minMax16(x: usize, n: i32, out: usize): void {
  let lo = i16x8.splat(32767), hi = i16x8.splat(-32768);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const v = v128.load(x + (<usize>i << 1));
    lo = i16x8.min_s(lo, v);
    hi = i16x8.max_s(hi, v);
  }
  let mn: i32 = min(
    min(min(i16x8.extract_lane_s(lo, 0), i16x8.extract_lane_s(lo, 1)), min(i16x8.extract_lane_s(lo, 2), i16x8.extract_lane_s(lo, 3))),
    min(min(i16x8.extract_lane_s(lo, 4), i16x8.extract_lane_s(lo, 5)), min(i16x8.extract_lane_s(lo, 6), i16x8.extract_lane_s(lo, 7))),
  );
  let mx: i32 = max(
    max(max(i16x8.extract_lane_s(hi, 0), i16x8.extract_lane_s(hi, 1)), max(i16x8.extract_lane_s(hi, 2), i16x8.extract_lane_s(hi, 3))),
    max(max(i16x8.extract_lane_s(hi, 4), i16x8.extract_lane_s(hi, 5)), max(i16x8.extract_lane_s(hi, 6), i16x8.extract_lane_s(hi, 7))),
  );
  for (; i < n; i++) {
    const v = <i32>load<i16>(x + (<usize>i << 1));
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  store<i32>(out, mn);
  store<i32>(out, mx, 4);
}

/** Σ (l² + r²) in double precision (the channels in the two lanes) and the peak |sample| of n frames; f64 sum, f64 peak at out. */
export function levels(l: usize, r: usize, n: i32, out: usize): void {
  let sum = f64x2.splat(0);
  let peak = f32x4.splat(0);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const p = <usize>i << 2;
    const a = f64x2.promote_low_f32x4(v128.load64_zero(l + p));
    const b = f64x2.promote_low_f32x4(v128.load64_zero(r + p));
    sum = f64x2.add(sum, f64x2.add(f64x2.mul(a, a), f64x2.mul(b, b)));
    peak = f32x4.pmax(peak, f32x4.abs(i64x2.shuffle(v128.load64_zero(l + p), v128.load64_zero(r + p), 0, 2)));
  }
  let s = f64x2.extract_lane(sum, 0) + f64x2.extract_lane(sum, 1);
  let m = max(max(f32x4.extract_lane(peak, 0), f32x4.extract_lane(peak, 1)), max(f32x4.extract_lane(peak, 2), f32x4.extract_lane(peak, 3)));
  for (; i < n; i++) {
    const a = load<f32>(l + (<usize>i << 2)), b = load<f32>(r + (<usize>i << 2));
    s += <f64>a * a + <f64>b * b;
    if (abs(a) > m) m = abs(a);
    if (abs(b) > m) m = abs(b);
  }
  store<f64>(out, s);
  store<f64>(out, <f64>m, 8);
}

/** The stereo-linked peak |sample| of each `block`-frame sub-block of n frames (the last may be short), f32 at out. */
export function blockPeaks(l: usize, r: usize, n: i32, block: i32, out: usize): void {
  for (let start = 0, b = 0; start < n; start += block, b++) {
    const end = min(n, start + block);
    let m = f32x4.splat(0);
    let i = start;
    for (; i + 4 <= end; i += 4) {
      const p = <usize>i << 2;
      m = f32x4.pmax(m, f32x4.pmax(f32x4.abs(v128.load(l + p)), f32x4.abs(v128.load(r + p))));
    }
    let peak = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    for (; i < end; i++) {
      const a = abs(load<f32>(l + (<usize>i << 2))), c = abs(load<f32>(r + (<usize>i << 2)));
      if (a > peak) peak = a;
      if (c > peak) peak = c;
    }
    store<f32>(out + (<usize>b << 2), peak);
  }
}

/**
 * The Compressor's gain ramps: sub-block b of `block` frames is multiplied by g + step·k (k = 1 … frames), with g and
 * step the f64 pair at ramps + 16·b, in double precision and rounded to f32 as the TypeScript loop does. r = 0: mono.
 */
export function applyGainRamps(l: usize, r: usize, n: i32, block: i32, ramps: usize): void {
  for (let start = 0, b = 0; start < n; start += block, b++) {
    const end = min(n, start + block);
    const g = load<f64>(ramps + (<usize>b << 4));
    const step = load<f64>(ramps + (<usize>b << 4), 8);
    if (step == 0 && g == 1) continue;
    for (let i = start, k = 1; i < end; i++, k++) {
      const gain = g + step * <f64>k;
      const p = <usize>i << 2;
      store<f32>(l + p, <f32>(<f64>load<f32>(l + p) * gain));
      if (r != 0) store<f32>(r + p, <f32>(<f64>load<f32>(r + p) * gain));
    }
  }
}

/**
 * out[i] = max src[i − before … i + after] (within [0, n)) for i in [from, to) of a non-negative f32 signal of n
 * samples, by van Herk / Gil-Werman as slidingMaxRange in src/dsp/mastering.ts; suffix: scratch of before + after + 1 f32.
 */
export function slidingMaxRange(src: usize, n: i32, before: i32, after: i32, out: usize, from: i32, to: i32, suffix: usize): void {
  const w = before + after + 1;
  for (let blockStart = from; blockStart < to; blockStart += w) {
    let m: f32 = 0;
    const lo = blockStart - before;
    for (let k = w - 1; k >= 0; k--) {
      const j = lo + k;
      if (j >= 0 && j < n) {
        const v = load<f32>(src + (<usize>j << 2));
        if (v > m) m = v;
      }
      store<f32>(suffix + (<usize>k << 2), m);
    }
    let p: f32 = 0;
    const blockEnd = min(to, blockStart + w);
    for (let i = blockStart, k = 0; i < blockEnd; i++, k++) {
      const s = load<f32>(suffix + (<usize>k << 2));
      store<f32>(out + (<usize>i << 2), s > p ? s : p);
      const j = lo + w + k;
      if (j < n) {
        const v = load<f32>(src + (<usize>j << 2));
        if (v > p) p = v;
      }
    }
  }
}

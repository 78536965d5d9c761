/**
 * Seeded uniform [0, 1) generator (mulberry32): bootstrap intervals, training, corruptions and simulations must be
 * reproducible for a given seed, and Math.random cannot be seeded. Five lines of well-known code are lighter than a package.
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

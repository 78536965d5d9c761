// Constant-power pan: a mono source keeps its power at any position; a stereo source is balanced.

export interface PanGains {
  /** Gain into the left output (from the left channel of a stereo source). */
  left: number;
  /** Gain into the right output (from the right channel of a stereo source). */
  right: number;
}

/** pan in -1 (left) … +1 (right); mono sits at -3 dB per side in the centre, stereo at unity. */
export function panGains(pan: number, sourceChannels: number): PanGains {
  const p = Number.isFinite(pan) ? Math.min(1, Math.max(-1, pan)) : 0;
  const theta = ((p + 1) * Math.PI) / 4;
  // cos(π/2) is 6e-17, not 0: a hard-panned source must leave the other side truly silent.
  const cos = p === 1 ? 0 : Math.cos(theta);
  const sin = p === -1 ? 0 : Math.sin(theta);
  if (sourceChannels >= 2) {
    return { left: Math.min(1, Math.SQRT2 * cos), right: Math.min(1, Math.SQRT2 * sin) };
  }
  return { left: cos, right: sin };
}

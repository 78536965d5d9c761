// Per-track analysis features: computed once per track in a worker, cached with the session, and
// the input of every auto-mix model (src/shared/automix.ts).

/** Log-mel spectrogram parameters, fixed so cached features and trained models agree. */
export const SPECTROGRAM = {
  /** Analysis rate: tracks are resampled to this before the STFT. */
  sampleRate: 22050,
  fftSize: 2048,
  hopSize: 512,
  melBands: 64,
  fMin: 30,
  fMax: 11025,
} as const;

/** Band edges (Hz) of the band-energy features. */
export const FEATURE_BANDS_HZ = [20, 60, 250, 500, 2000, 4000, 6000, 20000] as const;

export interface TrackFeatures {
  /** Version of the feature code; bump to invalidate caches. */
  version: number;
  /** BS.1770 integrated loudness of the track alone (LUFS); -Infinity if silent. */
  integratedLufs: number;
  /** Short-term (3 s) loudness percentiles over the active part: 10th, 50th, 95th (LUFS). */
  shortTermP10: number;
  shortTermP50: number;
  shortTermP95: number;
  /** Sample peak and crest factor (peak/RMS over the active part), dB. */
  peakDb: number;
  crestDb: number;
  /** Mean spectral centroid over active frames (Hz). */
  spectralCentroidHz: number;
  /** Slope of a line fitted to the mean log spectrum against log frequency, dB per octave. */
  spectralTiltDbPerOctave: number;
  /** Energy per FEATURE_BANDS_HZ band relative to the track's total, dB (length = bands − 1). */
  bandEnergiesDb: number[];
  /** Side/mid energy ratio (0 for mono) and L/R correlation (1 for mono). */
  stereoWidth: number;
  stereoCorrelation: number;
  /** (R − L)/(R + L) channel energy on active blocks: −1 left only, 0 balanced or mono, +1 right only. Absent in features older than version 2. */
  stereoBalance?: number;
  /** Fraction of 100 ms blocks above −50 LUFS momentary: where the track plays. */
  activity: number;
  /** Mean log-mel spectrum over active frames (SPECTROGRAM.melBands values, dB). */
  melMeanDb: number[];
}

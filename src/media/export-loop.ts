// The export loop: master, encode, decode the file back and measure it, and master again with corrections until the
// file itself meets the target. Encoders add inter-sample overs and shift loudness a little, so only the file can tell.
// Pure orchestration over the caller's stages (workers in the app, plain DSP and native ffmpeg in the tests).

/** How far the file's integrated loudness may land from the target, in LU. */
export const EXPORT_LUFS_TOLERANCE = 0.5;
/** Master → encode → check passes at most; a file still off spec after these is exported with a warning. */
export const MAX_EXPORT_PASSES = 4;
/**
 * Headroom a lossy file's first pass starts with: encoders add 0.1–0.7 dB of inter-sample overs at 320k on full-band,
 * heavily limited material, and starting with it usually saves a second master + encode pass.
 */
export const LOSSY_FIRST_PASS_HEADROOM_DB = 0.7;
/** Misses below this are the limiter's own drift, within tolerance anyway: trimming them would chase noise. */
const GAIN_TRIM_MIN_LU = 0.2;
/** Added to twice the overshoot: the encoder's overshoot grows with the limiting, so the next pass gets all of it plus a margin. */
const HEADROOM_MARGIN_DB = 0.05;

/** What the decoded file measured. */
export interface FileLoudness {
  integratedLufs: number;
  truePeakDb: number;
}

/** One pass's file, and the headroom its master was made with. */
export interface ExportPass {
  lufs: number;
  truePeakDb: number;
  headroomDb: number;
}

/** A stage's output that the loop reads: whether the master's gain hit its cap (louder is not on offer). */
export interface LoopMaster {
  report: { gainCapped: boolean };
}

export interface ExportLoopStages<M extends LoopMaster, E> {
  /** Masters with `extraHeadroomDb` under the ceiling and `gainTrimDb` added to the gain; `pass` counts from 1. */
  master(extraHeadroomDb: number, gainTrimDb: number, pass: number): Promise<M>;
  encode(mastered: M, pass: number): Promise<E>;
  /** Decodes the encoded file as a player would and measures it. */
  verify(encoded: E, pass: number): Promise<FileLoudness>;
}

export interface ExportLoopSpec {
  targetLufs: number;
  ceilingDbtp: number;
  /** A lossy format starts with LOSSY_FIRST_PASS_HEADROOM_DB; a lossless one with none. */
  lossy: boolean;
  maxPasses?: number;
}

export interface ExportLoopResult<M, E> {
  passes: ExportPass[];
  /** The last pass's master, file and measurement: what is exported. */
  final: M;
  encoded: E;
  check: FileLoudness;
  /** The file measured no loudness at all (below the gate). */
  silent: boolean;
  underCeiling: boolean;
  /** Within EXPORT_LUFS_TOLERANCE of the target. */
  onTarget: boolean;
  gainCapped: boolean;
  /** Not silent, under the ceiling, and on target or as loud as the chain may make it (gain capped). */
  withinSpec: boolean;
  timings: { master_s: number; encode_s: number; verify_s: number };
}

/** What the next pass changes after a file measured `check`, or null when the file is done. */
export function nextCorrection(check: FileLoudness, spec: { targetLufs: number; ceilingDbtp: number }, gainCapped: boolean): { headroomDb: number; gainTrimDb: number } | null {
  const over = check.truePeakDb - spec.ceilingDbtp;
  const miss = spec.targetLufs - check.integratedLufs;
  // A silent file has no loudness to correct, and a capped gain is as loud as we will go.
  const loudnessSettled = !Number.isFinite(miss) || Math.abs(miss) <= EXPORT_LUFS_TOLERANCE || gainCapped;
  if ((over <= 0 || !Number.isFinite(over)) && loudnessSettled) return null;
  return {
    headroomDb: over > 0 ? 2 * over + HEADROOM_MARGIN_DB : 0,
    gainTrimDb: Number.isFinite(miss) && Math.abs(miss) > GAIN_TRIM_MIN_LU && !gainCapped ? miss : 0,
  };
}

/** Runs master → encode → verify until the file meets the spec or MAX_EXPORT_PASSES are spent. */
export async function runExportLoop<M extends LoopMaster, E>(spec: ExportLoopSpec, stages: ExportLoopStages<M, E>): Promise<ExportLoopResult<M, E>> {
  const maxPasses = spec.maxPasses ?? MAX_EXPORT_PASSES;
  if (!(maxPasses >= 1)) throw new RangeError(`An export needs at least one pass (maxPasses ${maxPasses}).`);
  const timings = { master_s: 0, encode_s: 0, verify_s: 0 };
  const passes: ExportPass[] = [];
  let headroomDb = spec.lossy ? LOSSY_FIRST_PASS_HEADROOM_DB : 0;
  let gainTrimDb = 0;
  let last: { final: M; encoded: E; check: FileLoudness } | null = null;
  while (passes.length < maxPasses) {
    const pass = passes.length + 1;
    let t0 = performance.now();
    const final = await stages.master(headroomDb, gainTrimDb, pass);
    timings.master_s += (performance.now() - t0) / 1000;
    t0 = performance.now();
    const encoded = await stages.encode(final, pass);
    timings.encode_s += (performance.now() - t0) / 1000;
    t0 = performance.now();
    const check = await stages.verify(encoded, pass);
    timings.verify_s += (performance.now() - t0) / 1000;
    passes.push({ lufs: check.integratedLufs, truePeakDb: check.truePeakDb, headroomDb });
    last = { final, encoded, check };
    const next = nextCorrection(check, spec, final.report.gainCapped);
    if (!next) break;
    headroomDb += next.headroomDb;
    gainTrimDb += next.gainTrimDb;
  }
  const { final, encoded, check } = last!;
  const silent = !Number.isFinite(check.integratedLufs);
  const underCeiling = check.truePeakDb <= spec.ceilingDbtp;
  const onTarget = Math.abs(spec.targetLufs - check.integratedLufs) <= EXPORT_LUFS_TOLERANCE;
  const gainCapped = final.report.gainCapped;
  return { passes, final, encoded, check, silent, underCeiling, onTarget, gainCapped, withinSpec: !silent && underCeiling && (onTarget || gainCapped), timings };
}

// The single seam to ffmpeg.wasm: nothing else in the app imports @ffmpeg/*.
// We drive @ffmpeg/core's createFFmpegCore directly inside our own worker, as @ffmpeg/ffmpeg's worker.js does, because its
// FFmpeg class would spawn a second, nested worker and copy every buffer twice; here terminating our worker stops ffmpeg.
import coreURL from '@ffmpeg/core?url';
import wasmURL from '@ffmpeg/core/wasm?url';
import { CancelledError } from '../shared/errors';

/** The part of the emscripten module of @ffmpeg/core 0.12 that we use. */
interface FfmpegCore {
  FS: {
    writeFile(path: string, data: Uint8Array): void;
    readFile(path: string): Uint8Array;
    unlink(path: string): void;
    readdir(path: string): string[];
  };
  exec(...args: string[]): number;
  ffprobe(...args: string[]): number;
  setLogger(logger: (log: { type: string; message: string }) => void): void;
  setProgress(handler: (p: { progress: number; time: number }) => void): void;
  setTimeout(ms: number): void;
}

type CoreFactory = (options: { mainScriptUrlOrBlob: string }) => Promise<FfmpegCore>;

let corePromise: Promise<FfmpegCore> | undefined;
/** Runs are serialized: the core is one emscripten instance with one file system. */
let queue: Promise<unknown> = Promise.resolve();

/** Loads the core once, from our own origin (never a CDN: the app works offline). */
export function loadFfmpegCore(): Promise<FfmpegCore> {
  corePromise ??= (async () => {
    const { default: createCore } = (await import(/* @vite-ignore */ coreURL)) as { default: CoreFactory };
    // The core reads the wasm location from this URL fragment (its locateFile hook).
    return createCore({ mainScriptUrlOrBlob: `${coreURL}#${btoa(JSON.stringify({ wasmURL, workerURL: '' }))}` });
  })().catch((e: unknown) => {
    // A failed load (network, memory) may succeed on the next import.
    corePromise = undefined;
    throw e;
  });
  return corePromise;
}

export interface FfmpegRun {
  exitCode: number;
  /** The output file's bytes, or null when ffmpeg wrote none. */
  output: Uint8Array | null;
  /** ffmpeg's stderr/stdout lines, for mapping failures to reasons. */
  log: string[];
}

export interface FfmpegRunOptions {
  /** Called with 0…1 as ffmpeg reports it (relative to the input's duration). */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  /** Use ffprobe instead of ffmpeg. */
  probe?: boolean;
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}

/**
 * Runs one ffmpeg (or ffprobe) command on in-memory files and returns the named output.
 * Generic on purpose: decoding and the export encoders share it.
 */
export function runFfmpeg(args: string[], inputFiles: Record<string, Uint8Array>, outputName: string | null, options: FfmpegRunOptions = {}): Promise<FfmpegRun> {
  const run = queue.then(async () => {
    throwIfAborted(options.signal);
    const core = await loadFfmpegCore();
    throwIfAborted(options.signal);
    const log: string[] = [];
    core.setLogger(({ message }) => log.push(message));
    core.setProgress(({ progress }) => {
      if (Number.isFinite(progress) && progress >= 0) options.onProgress?.(Math.min(1, progress));
    });
    const written = Object.keys(inputFiles);
    try {
      for (const name of written) core.FS.writeFile(name, inputFiles[name]);
      core.setTimeout(-1);
      // exec is synchronous: an abort during it lands only by terminating the worker.
      const exitCode = options.probe ? core.ffprobe(...args) : core.exec(...args);
      let output: Uint8Array | null = null;
      if (outputName && core.FS.readdir('.').includes(outputName)) output = core.FS.readFile(outputName);
      return { exitCode, output, log };
    } finally {
      for (const name of [...written, ...(outputName ? [outputName] : [])]) {
        try {
          core.FS.unlink(name);
        } catch {
          // Not written: nothing to free.
        }
      }
      core.setLogger(() => {});
      core.setProgress(() => {});
    }
  });
  queue = run.catch(() => undefined);
  return run;
}

interface ProbedStream {
  codec_type?: string;
  codec_name?: string;
  channels?: number;
  sample_rate?: string;
}

export interface ProbedAudio {
  channelCount: number;
  sampleRate: number;
  codec: string;
  durationS: number | null;
}

/** ffmpeg failures mapped to reasons a user can act on; the raw log goes to the console for us. */
export class FfmpegDecodeError extends Error {
  constructor(readonly reason: string, readonly log: string[] = []) {
    super(reason);
    this.name = 'FfmpegDecodeError';
  }
}

const INPUT_BASENAME = 'input';

/** Reads the first audio stream's layout; throws FfmpegDecodeError when there is none. */
export async function probeAudio(bytes: Uint8Array, signal?: AbortSignal): Promise<ProbedAudio> {
  const probeName = 'probe.json';
  const { exitCode, output, log } = await runFfmpeg(
    ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,channels,sample_rate:format=duration', '-of', 'json', '-o', probeName, INPUT_BASENAME],
    { [INPUT_BASENAME]: bytes },
    probeName,
    { probe: true, signal },
  );
  if (exitCode !== 0 || !output) throw new FfmpegDecodeError('not a supported audio format', log);
  const parsed = JSON.parse(new TextDecoder().decode(output)) as { streams?: ProbedStream[]; format?: { duration?: string } };
  const streams = parsed.streams ?? [];
  const audio = streams.find((s) => s.codec_type === 'audio');
  if (!audio) throw new FfmpegDecodeError(streams.length ? 'no audio stream' : 'not a supported audio format', log);
  const duration = Number(parsed.format?.duration);
  return {
    channelCount: audio.channels ?? 0,
    sampleRate: Number(audio.sample_rate) || 0,
    codec: audio.codec_name ?? 'unknown',
    durationS: Number.isFinite(duration) ? duration : null,
  };
}

export interface PcmAudio {
  channels: Float32Array[];
  source: ProbedAudio;
  warnings: string[];
}

/** Splits interleaved f32le bytes into planar channels, each on its own buffer (so each can be transferred). */
function deinterleave(bytes: Uint8Array, channelCount: number): Float32Array[] {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const interleaved = new Float32Array(aligned.buffer, aligned.byteOffset, Math.floor(aligned.byteLength / 4));
  const frames = Math.floor(interleaved.length / channelCount);
  const channels = Array.from({ length: channelCount }, () => new Float32Array(frames));
  for (let ch = 0; ch < channelCount; ch++) {
    const out = channels[ch];
    for (let i = 0, j = ch; i < frames; i++, j += channelCount) out[i] = interleaved[j];
  }
  return channels;
}

const DAMAGE_PATTERN = /Invalid data found|Error while decoding|error decoding|corrupt|Header missing|invalid frame|overread/i;

/**
 * Decodes any container/codec ffmpeg knows to planar float PCM at targetRate: mono stays mono, anything wider is
 * downmixed to stereo by ffmpeg's channel-layout-aware matrix.
 */
export async function decodeToPcm(
  bytes: Uint8Array,
  fileName: string,
  targetRate: number,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<PcmAudio> {
  void fileName; // Kept in the signature for log context; inputs use fixed names so odd characters cannot break argv.
  const source = await probeAudio(bytes, signal);
  const channelCount = source.channelCount === 1 ? 1 : 2;
  const outName = 'output.f32';
  const { exitCode, output, log } = await runFfmpeg(
    ['-v', 'error', '-i', INPUT_BASENAME, '-map', '0:a:0', '-vn', '-sn', '-dn', '-ac', String(channelCount), '-ar', String(targetRate), '-f', 'f32le', '-c:a', 'pcm_f32le', outName],
    { [INPUT_BASENAME]: bytes },
    outName,
    { onProgress, signal },
  );
  if (exitCode !== 0 || !output || output.byteLength < 4 * channelCount) {
    throw new FfmpegDecodeError(output?.byteLength ? 'the file is corrupt or truncated' : 'the file is corrupt or truncated (no audio could be decoded)', log);
  }
  const warnings: string[] = [];
  if (log.some((line) => DAMAGE_PATTERN.test(line))) warnings.push('some audio frames were damaged and decoded as silence or skipped');
  return { channels: deinterleave(output, channelCount), source, warnings };
}

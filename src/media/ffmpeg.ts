// The single seam to ffmpeg.wasm: nothing else in the app imports @ffmpeg/*.
// We drive @ffmpeg/core's createFFmpegCore directly inside our own worker, as @ffmpeg/ffmpeg's worker.js does, because its
// FFmpeg class would spawn a second, nested worker and copy every buffer twice; here terminating our worker stops ffmpeg.
import coreURL from '@ffmpeg/core?url';
import wasmURL from '@ffmpeg/core/wasm?url';
import { CancelledError } from '../shared/errors';
import { EncodeError, EXPORT_FORMATS, MP3_SAMPLE_RATES, type ExportFormat, type ExportTags } from '../shared/export';
import type { InterleavedPcm16 } from '../dsp/pcm16';

/** The part of the emscripten module of @ffmpeg/core 0.12 that we use. */
interface FfmpegCore {
  FS: {
    writeFile(path: string, data: Uint8Array, opts?: { canOwn?: boolean }): void;
    readFile(path: string): Uint8Array;
    unlink(path: string): void;
    readdir(path: string): string[];
    mkdir(path: string): void;
    mount(type: unknown, opts: { blobs: { name: string; data: Blob }[] }, mountpoint: string): void;
    unmount(mountpoint: string): void;
    filesystems: { WORKERFS: unknown };
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
  /**
   * Blobs mounted read-only under MOUNT_DIR (emscripten's WORKERFS): ffmpeg reads them in place through
   * FileReaderSync, so a 3-hour episode is never copied into memory. Measured on a 57 MB MP3 in a worker:
   * writeFile took 122 ms and doubled the memory it held; mounting took under 1 ms, and decoding from the mount ran
   * at the same speed (600 s of 128 kb/s stereo to 16 kHz mono in 4.9 s either way). writeFile also caps inputs at 2 GB.
   */
  mounts?: Record<string, Blob>;
}

/** Where runFfmpeg mounts `mounts`. */
export const MOUNT_DIR = '/mnt';

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
    const mounts = options.mounts ? Object.entries(options.mounts) : [];
    let mounted = false;
    try {
      // canOwn keeps a view instead of a copy: ffmpeg only reads inputs, and a 3-minute master is 60 MB of f32.
      for (const name of written) core.FS.writeFile(name, inputFiles[name], { canOwn: true });
      if (mounts.length) {
        try {
          core.FS.mkdir(MOUNT_DIR);
        } catch {
          // Made by an earlier run of this core.
        }
        core.FS.mount(core.FS.filesystems.WORKERFS, { blobs: mounts.map(([name, data]) => ({ name, data })) }, MOUNT_DIR);
        mounted = true;
      }
      core.setTimeout(-1);
      // exec is synchronous: an abort during it lands only by terminating the worker.
      const exitCode = options.probe ? core.ffprobe(...args) : core.exec(...args);
      let output: Uint8Array | null = null;
      if (outputName && core.FS.readdir('.').includes(outputName)) output = core.FS.readFile(outputName);
      return { exitCode, output, log };
    } finally {
      if (mounted) core.FS.unmount(MOUNT_DIR);
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
export function probeAudio(bytes: Uint8Array, signal?: AbortSignal): Promise<ProbedAudio> {
  return probeInput(INPUT_BASENAME, { [INPUT_BASENAME]: bytes }, undefined, signal);
}

/** probeAudio for a Blob (a File of any size), read in place through a mount. */
export function probeBlob(blob: Blob, signal?: AbortSignal): Promise<ProbedAudio> {
  return probeInput(`${MOUNT_DIR}/${INPUT_BASENAME}`, {}, { [INPUT_BASENAME]: blob }, signal);
}

async function probeInput(inputPath: string, files: Record<string, Uint8Array>, mounts: Record<string, Blob> | undefined, signal?: AbortSignal): Promise<ProbedAudio> {
  const probeName = 'probe.json';
  const { exitCode, output, log } = await runFfmpeg(
    ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,channels,sample_rate:format=duration', '-of', 'json', '-o', probeName, inputPath],
    files,
    probeName,
    { probe: true, signal, mounts },
  );
  // The 0.12 core never sets ffprobe's exit code (it stays -1), so the report itself is the verdict.
  void exitCode;
  let parsed: { streams?: ProbedStream[]; format?: { duration?: string } };
  try {
    parsed = JSON.parse(new TextDecoder().decode(output ?? new Uint8Array(0))) as typeof parsed;
  } catch {
    throw new FfmpegDecodeError('not a supported audio format', log);
  }
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

/**
 * Splits interleaved f32le (or s16le, read as k / 32768 the way a 16-bit file decodes) bytes into planar float
 * channels, each on its own buffer (so each can be transferred).
 */
function deinterleave(bytes: Uint8Array, channelCount: number, format: 'f32' | 's16' = 'f32'): Float32Array[] {
  const width = format === 's16' ? 2 : 4;
  const aligned = bytes.byteOffset % width === 0 ? bytes : bytes.slice();
  const length = Math.floor(aligned.byteLength / width);
  const frames = Math.floor(length / channelCount);
  const channels = Array.from({ length: channelCount }, () => new Float32Array(frames));
  // One loop per sample type, so each stays monomorphic on the import path.
  if (format === 's16') {
    const interleaved = new Int16Array(aligned.buffer, aligned.byteOffset, length);
    for (let ch = 0; ch < channelCount; ch++) {
      const out = channels[ch];
      for (let i = 0, j = ch; i < frames; i++, j += channelCount) out[i] = interleaved[j] / 32768;
    }
  } else {
    const interleaved = new Float32Array(aligned.buffer, aligned.byteOffset, length);
    for (let ch = 0; ch < channelCount; ch++) {
      const out = channels[ch];
      for (let i = 0, j = ch; i < frames; i++, j += channelCount) out[i] = interleaved[j];
    }
  }
  return channels;
}

const DAMAGE_PATTERN = /Invalid data found|Error while decoding|error decoding|corrupt|Header missing|invalid frame|overread/i;

/**
 * Decodes any container/codec ffmpeg knows to planar float PCM at targetRate: mono stays mono, anything wider is
 * downmixed to stereo by ffmpeg's channel-layout-aware matrix. `s16` goes through 16-bit samples, half the memory, for
 * checking a lossy export: an over past full scale clips there, and a clipped peak still measures at least 0 dBTP.
 */
export async function decodeToPcm(
  bytes: Uint8Array,
  fileName: string,
  targetRate: number,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
  sampleFormat: 'f32' | 's16' = 'f32',
): Promise<PcmAudio> {
  void fileName; // Kept in the signature for log context; inputs use fixed names so odd characters cannot break argv.
  const source = await probeAudio(bytes, signal);
  const channelCount = source.channelCount === 1 ? 1 : 2;
  const s16 = sampleFormat === 's16';
  const outName = s16 ? 'output.s16' : 'output.f32';
  const { exitCode, output, log } = await runFfmpeg(
    ['-v', 'error', '-i', INPUT_BASENAME, '-map', '0:a:0', '-vn', '-sn', '-dn', '-ac', String(channelCount), '-ar', String(targetRate), ...(s16 ? ['-f', 's16le', '-c:a', 'pcm_s16le'] : ['-f', 'f32le', '-c:a', 'pcm_f32le']), outName],
    { [INPUT_BASENAME]: bytes },
    outName,
    { onProgress, signal },
  );
  if (exitCode !== 0 || !output || output.byteLength < 4 * channelCount) {
    throw new FfmpegDecodeError(output?.byteLength ? 'the file is corrupt or truncated' : 'the file is corrupt or truncated (no audio could be decoded)', log);
  }
  const warnings: string[] = [];
  if (log.some((line) => DAMAGE_PATTERN.test(line))) warnings.push('some audio frames were damaged and decoded as silence or skipped');
  return { channels: deinterleave(output, channelCount, s16 ? 's16' : 'f32'), source, warnings };
}


export interface BlobDecodeRequest {
  /** The file, or a byte slice of it; mounted, never copied into ffmpeg's memory. */
  input: Blob;
  /** Options before -i: the format of a raw slice (`-f mp3`, `-f s16le -ar … -ac …`) or `-ss`/`-t` for a container ffmpeg seeks. */
  inputArgs?: string[];
  /** Output rate and channel count (mono is ffmpeg's layout-aware downmix). */
  rate: number;
  channels: 1 | 2;
}

/**
 * Decodes a Blob (or a range of it, per inputArgs) to planar float PCM: the long-episode path, where the input
 * is read in place and only the requested range is ever decoded. Fails with FfmpegDecodeError.
 */
export async function decodeBlobToPcm(req: BlobDecodeRequest, onProgress?: (fraction: number) => void, signal?: AbortSignal): Promise<PcmAudio> {
  const outName = 'range.f32';
  const { exitCode, output, log } = await runFfmpeg(
    [
      '-v', 'error', '-nostdin', ...(req.inputArgs ?? []), '-i', `${MOUNT_DIR}/${INPUT_BASENAME}`,
      '-map', '0:a:0', '-vn', '-sn', '-dn', '-ac', String(req.channels), '-ar', String(req.rate), '-f', 'f32le', '-c:a', 'pcm_f32le', outName,
    ],
    {},
    outName,
    { onProgress, signal, mounts: { [INPUT_BASENAME]: req.input } },
  );
  if (exitCode !== 0 || !output) {
    const reason = log.filter((line) => line.trim() && !line.startsWith('Aborted(')).at(-1)?.trim();
    throw new FfmpegDecodeError(/Invalid data|could not find codec|Invalid argument/i.test(reason ?? '') ? 'the file is corrupt or not a supported audio format' : `the decoder stopped (${reason ?? `exit code ${exitCode}`})`, log);
  }
  const warnings: string[] = [];
  if (log.some((line) => DAMAGE_PATTERN.test(line))) warnings.push('some audio frames were damaged and decoded as silence or skipped');
  const source: ProbedAudio = { channelCount: req.channels, sampleRate: req.rate, codec: 'pcm_f32le', durationS: output.byteLength / 4 / req.channels / req.rate };
  // Mono needs no deinterleaving: a view of ffmpeg's own output buffer saves a copy of the whole range.
  const owned = output.byteOffset === 0 && output.byteLength === output.buffer.byteLength && output.byteLength % 4 === 0;
  const channels = req.channels === 1 && owned ? [new Float32Array(output.buffer as ArrayBuffer)] : deinterleave(output, req.channels);
  return { channels, source, warnings };
}

const ENCODER_ARGS: Record<ExportFormat, string[]> = {
  // CBR: -b:a alone keeps libmp3lame in CBR (-q:a would switch it to VBR); ID3v2.3 is what most players read.
  // No bit reservoir: every frame stands alone, so halves encoded in parallel splice cleanly (mp3-splice.ts).
  mp3: ['-c:a', 'libmp3lame', '-b:a', '320k', '-reservoir', '0', '-id3v2_version', '3', '-f', 'mp3'],
  // The muxer writes title/artist as a RIFF LIST/INFO chunk (INAM, IART).
  wav: ['-c:a', 'pcm_s24le', '-f', 'wav'],
  // flac has no packed 24-bit sample format: s32 carries 24 significant bits, stored as 24 in STREAMINFO.
  flac: ['-c:a', 'flac', '-sample_fmt', 's32', '-bits_per_raw_sample', '24', '-f', 'flac'],
};

/** Interleaves planar channels into one f32le buffer, the only copy of the audio the encoder needs. */
function interleaveF32(channels: Float32Array[]): Uint8Array {
  const channelCount = channels.length;
  const frames = channels[0].length;
  const interleaved = new Float32Array(frames * channelCount);
  if (channelCount === 2) {
    const [left, right] = channels;
    for (let i = 0, j = 0; i < frames; i++, j += 2) {
      interleaved[j] = left[i];
      interleaved[j + 1] = right[i];
    }
  } else {
    for (let ch = 0; ch < channelCount; ch++) {
      const input = channels[ch];
      for (let i = 0, j = ch; i < frames; i++, j += channelCount) interleaved[j] = input[i];
    }
  }
  return new Uint8Array(interleaved.buffer);
}

function metadataArgs(tags: ExportTags): string[] {
  const args: string[] = [];
  for (const [key, value] of [['title', tags.title], ['artist', tags.artist]] as const) {
    const text = value?.trim();
    if (text) args.push('-metadata', `${key}=${text}`);
  }
  return args;
}

/**
 * Encodes planar float channels (or, for MP3 only, interleaved 16-bit PCM) at their own sample rate (never resampled) to MP3 320k CBR, 24-bit WAV or 24-bit FLAC,
 * with title/artist tags. Samples beyond ±1 clip in WAV/FLAC: limiting is the mastering stage's job.
 */
/** Frames of the warm-up encode: about half a second, enough for the encoder's hot loops to be compiled. */
const WARM_FRAMES = 24 * 1152;

/**
 * Starts the core and runs a tiny MP3 encode (half a second of quiet noise), so that a worker which will encode
 * soon has its 30 MB of WebAssembly compiled and the encoder's hot functions optimised before the real input
 * arrives. The podcast export runs this on the encoder workers while the reel is being mastered on another core.
 */
export function warmMp3Encoder(sampleRate: number, channelCount: 1 | 2): Promise<void> {
  // Once per worker: a worker that has encoded (or warmed up) already runs compiled code.
  mp3Warm ??= runWarmEncode(sampleRate, channelCount).catch((e: unknown) => {
    mp3Warm = undefined;
    throw e;
  });
  return mp3Warm;
}

let mp3Warm: Promise<void> | undefined;

async function runWarmEncode(sampleRate: number, channelCount: 1 | 2): Promise<void> {
  await loadFfmpegCore();
  const samples = new Int16Array(WARM_FRAMES * channelCount);
  // Deterministic low-level noise: an all-zero input would leave the encoder's psychoacoustic paths cold.
  let seed = 12345;
  for (let i = 0; i < samples.length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    samples[i] = (seed >>> 16) % 2001 - 1000;
  }
  await encodeAudio({ samples, channelCount }, sampleRate, 'mp3', {});
}

export async function encodeAudio(
  input: Float32Array[] | InterleavedPcm16,
  sampleRate: number,
  format: ExportFormat,
  tags: ExportTags,
  onProgress?: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const pcm16 = Array.isArray(input) ? null : input;
  const channelCount = pcm16 ? pcm16.channelCount : (input as Float32Array[]).length;
  if (!(channelCount >= 1 && channelCount <= 8)) throw new EncodeError(`cannot encode ${channelCount} channels`);
  const frames = pcm16 ? Math.floor(pcm16.samples.length / channelCount) : (input as Float32Array[])[0].length;
  if (frames === 0) throw new EncodeError('the master is empty (0 samples)');
  if (!pcm16 && (input as Float32Array[]).some((c) => c.length !== frames)) throw new EncodeError('the channels differ in length');
  // 24-bit WAV and FLAC must not be fed 16 bits: only the lossy MP3 takes 16-bit input.
  if (pcm16 && format !== 'mp3') throw new EncodeError(`16-bit input is for MP3 only, not ${EXPORT_FORMATS[format].label}`);
  if (!(Number.isInteger(sampleRate) && sampleRate >= 8000 && sampleRate <= 384000)) {
    throw new EncodeError(`cannot encode at a sample rate of ${sampleRate} Hz`);
  }
  if (format === 'mp3' && !MP3_SAMPLE_RATES.includes(sampleRate)) {
    throw new EncodeError(`MP3 at 320 kbps needs a 32, 44.1 or 48 kHz session; this one runs at ${sampleRate / 1000} kHz. Export WAV or FLAC instead`);
  }
  throwIfAborted(signal);
  const inputName = pcm16 ? 'master.s16' : 'master.f32';
  const outputName = `master.${EXPORT_FORMATS[format].ext}`;
  const { exitCode, output, log } = await runFfmpeg(
    [
      '-v', 'error', '-nostdin',
      '-f', pcm16 ? 's16le' : 'f32le', '-ar', String(sampleRate), '-ac', String(channelCount), '-i', inputName,
      '-map_metadata', '-1', ...metadataArgs(tags),
      '-ar', String(sampleRate), ...ENCODER_ARGS[format],
      '-y', outputName,
    ],
    { [inputName]: pcm16 ? new Uint8Array(pcm16.samples.buffer, pcm16.samples.byteOffset, pcm16.samples.byteLength) : interleaveF32(input as Float32Array[]) },
    outputName,
    { onProgress, signal },
  );
  if (exitCode !== 0 || !output || output.byteLength === 0) {
    console.warn(`ffmpeg could not encode ${outputName}:`, log.slice(-8).join('\n'));
    // The core ends every run by logging "Aborted()"; the line before it says what went wrong.
    const reason = log.filter((line) => line.trim() && !line.startsWith('Aborted(')).at(-1)?.trim();
    throw new EncodeError(`the ${EXPORT_FORMATS[format].label} encoder stopped (${reason ?? `exit code ${exitCode}`})`);
  }
  onProgress?.(1);
  return output;
}

// Mastering and export driven as a user would; every check is made on the downloaded file itself.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { pcm16Wav } from './wav';
import { measureLoudness, type LoudnessReport } from '../../src/dsp/loudness';
// @ts-expect-error plain ESM script without types
import { FIXTURE_DIR, generateFixtures } from '../fixtures/generate.mjs';

const RATE = 44100;
const LUFS_TOLERANCE = 0.5;
const CEILING_DBTP = -1;
const PRESET_TARGETS = { streaming: -14, podcast: -16, broadcast: -23 } as const;
type Preset = keyof typeof PRESET_TARGETS;
type Format = 'mp3' | 'wav' | 'flac';

// Made on first use: the runner also loads this file just to list the tests.
let scratch: string | undefined;
const workDir = (): string => (scratch ??= mkdtempSync(join(tmpdir(), 'aimixer-mastering-')));

test.beforeAll(() => {
  generateFixtures();
});

test.afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

interface DecodedFile {
  left: Float32Array;
  right: Float32Array;
  report: LoudnessReport;
  nonFinite: number;
}

/** Native ffmpeg decodes the file; the project's own BS.1770 meter measures it. */
function decodeAndMeasure(path: string): DecodedFile {
  const raw = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', path, '-f', 'f32le', '-ac', '2', '-ar', String(RATE), '-'], {
    maxBuffer: 1 << 30,
  });
  // Copy into an aligned buffer: Node's pooled Buffers may start at any byte offset.
  const interleaved = new Float32Array(new Uint8Array(raw).buffer);
  const frames = interleaved.length / 2;
  const left = new Float32Array(frames);
  const right = new Float32Array(frames);
  let nonFinite = 0;
  for (let i = 0; i < frames; i++) {
    left[i] = interleaved[2 * i];
    right[i] = interleaved[2 * i + 1];
    if (!Number.isFinite(left[i]) || !Number.isFinite(right[i])) nonFinite++;
  }
  return { left, right, report: measureLoudness([left, right], RATE), nonFinite };
}

/** An independent second opinion: ffmpeg's own EBU R128 meter with true peak. */
function ffmpegEbur128(path: string): { lufs: number; truePeakDb: number } {
  // The filter logs its summary on stderr.
  const run = spawnSync('ffmpeg', ['-hide_banner', '-nostats', '-i', path, '-af', 'ebur128=peak=true', '-f', 'null', '-'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(`ffmpeg ebur128 failed on ${path}: ${run.stderr}`);
  return parseEbur128(run.stderr);
}

function parseEbur128(log: string): { lufs: number; truePeakDb: number } {
  const summary = log.slice(log.lastIndexOf('Summary:'));
  const lufs = Number(summary.match(/I:\s+(-?[\d.]+|-inf) LUFS/)?.[1].replace('-inf', '-Infinity'));
  const truePeakDb = Number(summary.match(/True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS/)?.[1].replace('-inf', '-Infinity'));
  return { lufs, truePeakDb };
}

interface Probe {
  format: { format_name: string; bit_rate?: string; tags?: Record<string, string> };
  streams: { codec_name: string; sample_rate: string; channels: number; bit_rate?: string; sample_fmt?: string; bits_per_raw_sample?: string }[];
  packets?: { size: string }[];
}

function ffprobe(path: string, packets = false): Probe {
  const args = ['-v', 'error', '-show_format', '-show_streams', ...(packets ? ['-show_entries', 'packet=size'] : []), '-of', 'json', path];
  return JSON.parse(execFileSync('ffprobe', args, { encoding: 'utf8', maxBuffer: 1 << 26 })) as Probe;
}

/** Tag keys differ by container (ID3 TIT2 → title, RIFF INAM → title, Vorbis TITLE); ffprobe maps most. */
function tag(p: Probe, key: string): string | undefined {
  const tags = p.format.tags ?? {};
  const found = Object.entries(tags).find(([k]) => k.toLowerCase() === key);
  return found?.[1];
}

async function openDemo(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'AI Mixer' })).toBeVisible();
  await expect(page.getByTestId('track-strip')).toHaveCount(4, { timeout: 60_000 });
}

async function openEmpty(page: Page): Promise<void> {
  await openDemo(page);
  await page.getByRole('button', { name: 'New session' }).click();
  await expect(page.getByTestId('track-strip')).toHaveCount(0);
}

/** Sets the form as a user would, presses "Master & export" and waits for the new item in the list. */
async function exportThroughUi(page: Page, opts: { preset?: Preset; format: Format; title: string; artist?: string }): Promise<Locator> {
  const panel = page.getByTestId('mastering');
  if (opts.preset) await panel.getByTestId('preset').selectOption(opts.preset);
  await panel.getByTestId('export-format').selectOption(opts.format);
  await panel.getByRole('textbox', { name: 'Title' }).fill(opts.title);
  if (opts.artist !== undefined) await panel.getByRole('textbox', { name: 'Artist' }).fill(opts.artist);
  const items = panel.getByTestId('export-item');
  const before = await items.count();
  await panel.getByTestId('export').click();
  await expect(items).toHaveCount(before + 1, { timeout: 120_000 });
  const item = items.filter({ hasText: `${opts.title}.${opts.format}` });
  await expect(item).toHaveCount(1);
  await expect(item).toHaveAttribute('data-format', opts.format);
  return item;
}

async function download(page: Page, item: Locator): Promise<string> {
  const [dl] = await Promise.all([page.waitForEvent('download'), item.getByRole('link').click()]);
  const path = join(mkdtempSync(join(workDir(), 'dl-')), dl.suggestedFilename());
  await dl.saveAs(path);
  return path;
}

function expectInSpec(file: DecodedFile, targetLufs: number, what: string): void {
  expect(file.nonFinite, `${what}: non-finite samples`).toBe(0);
  expect(file.left.length, `${what}: decoded length`).toBeGreaterThan(RATE);
  expect(Math.abs(file.report.integratedLufs - targetLufs), `${what}: ${file.report.integratedLufs.toFixed(2)} LUFS vs ${targetLufs}`).toBeLessThanOrEqual(LUFS_TOLERANCE);
  expect(file.report.truePeakDb, `${what}: true peak`).toBeLessThanOrEqual(CEILING_DBTP);
}

/** The app's own after-export check of the file must agree with ours. */
async function expectUiFileCheck(page: Page, file: DecodedFile): Promise<void> {
  const table = page.getByTestId('loudness-table');
  const lufs = Number((await table.getByTestId('file-lufs').textContent())!.replace(/[^\d.-]/g, ''));
  const tp = Number((await table.getByTestId('file-tp').textContent())!.replace(/[^\d.-]/g, ''));
  expect(Math.abs(lufs - file.report.integratedLufs)).toBeLessThanOrEqual(0.1);
  expect(Math.abs(tp - file.report.truePeakDb)).toBeLessThanOrEqual(0.15);
}

/** A stereo 16-bit PCM WAV from a sample function, written where the test can import it. */
function writeWav(name: string, seconds: number, sample: (i: number, ch: number) => number): string {
  const frames = Math.round(seconds * RATE);
  const data = Buffer.alloc(frames * 4);
  for (let i = 0; i < frames; i++) {
    for (let ch = 0; ch < 2; ch++) data.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(sample(i, ch) * 32767))), (2 * i + ch) * 2);
  }
  const path = join(workDir(), name);
  writeFileSync(path, pcm16Wav(RATE, 2, data));
  return path;
}

async function importFile(page: Page, path: string, tracks: number): Promise<void> {
  await page.getByTestId('file-input').setInputFiles(path);
  await expect(page.getByTestId('track-strip')).toHaveCount(tracks, { timeout: 60_000 });
}

test.describe('the demo session mastered to each preset, checked on the downloaded file', () => {
  test('streaming −14 LUFS: MP3 320k CBR with tags, WAV 24-bit and FLAC all meet target and ceiling', async ({ page }) => {
    await openDemo(page);
    const target = PRESET_TARGETS.streaming;
    for (const format of ['mp3', 'wav', 'flac'] as const) {
      const title = `Streaming master ${format}`;
      const item = await exportThroughUi(page, { preset: 'streaming', format, title, artist: 'E2E Artist' });
      const path = await download(page, item);
      const file = decodeAndMeasure(path);
      expectInSpec(file, target, `streaming ${format}`);
      await expectUiFileCheck(page, file);
      const native = ffmpegEbur128(path);
      expect(Math.abs(native.lufs - target), `ffmpeg ebur128 on ${format}`).toBeLessThanOrEqual(LUFS_TOLERANCE + 0.1);
      // ffmpeg oversamples differently (to 192 kHz); allow it a hair over our 4× reading.
      expect(native.truePeakDb, `ffmpeg true peak on ${format}`).toBeLessThanOrEqual(CEILING_DBTP + 0.2);

      const probe = ffprobe(path, format === 'mp3');
      expect(tag(probe, 'title')).toBe(title);
      expect(tag(probe, 'artist')).toBe('E2E Artist');
      const stream = probe.streams[0];
      expect(stream.channels).toBe(2);
      expect(Number(stream.sample_rate)).toBe(RATE);
      if (format === 'mp3') {
        expect(stream.codec_name).toBe('mp3');
        expect(Number(stream.bit_rate)).toBe(320_000);
        // CBR: at 320 kbps and 44.1 kHz every frame is 1044 bytes, or 1045 with the padding slot.
        const sizes = new Set(probe.packets!.map((p) => Number(p.size)));
        expect([...sizes].every((s) => s === 1044 || s === 1045), `MP3 frame sizes ${[...sizes].join(',')}`).toBe(true);
      } else if (format === 'wav') {
        expect(stream.codec_name).toBe('pcm_s24le');
      } else {
        expect(stream.codec_name).toBe('flac');
        expect(Number(stream.bits_per_raw_sample)).toBe(24);
      }
    }
  });

  for (const preset of ['podcast', 'broadcast'] as const) {
    test(`${preset} ${PRESET_TARGETS[preset]} LUFS: the MP3 meets target and ceiling`, async ({ page }) => {
      await openDemo(page);
      const item = await exportThroughUi(page, { preset, format: 'mp3', title: `${preset} master` });
      const path = await download(page, item);
      const file = decodeAndMeasure(path);
      expectInSpec(file, PRESET_TARGETS[preset], `${preset} mp3`);
      await expectUiFileCheck(page, file);
      const native = ffmpegEbur128(path);
      expect(Math.abs(native.lufs - PRESET_TARGETS[preset])).toBeLessThanOrEqual(LUFS_TOLERANCE + 0.1);
      expect(Number(ffprobe(path).streams[0].bit_rate)).toBe(320_000);
    });
  }
});

test('preview shows before/after loudness and a loudness-matched A/B that keeps playing across switches', async ({ page }) => {
  await openDemo(page);
  const panel = page.getByTestId('mastering');
  await panel.getByTestId('preset').selectOption('podcast');
  await panel.getByRole('button', { name: 'Preview master' }).click();
  const table = panel.getByTestId('loudness-table');
  await expect(table).toBeVisible({ timeout: 60_000 });
  const afterLufs = Number((await table.getByTestId('after-lufs').textContent())!.replace(/[^\d.-]/g, ''));
  const afterTp = Number((await table.getByTestId('after-tp').textContent())!.replace(/[^\d.-]/g, ''));
  expect(Math.abs(afterLufs - PRESET_TARGETS.podcast)).toBeLessThanOrEqual(LUFS_TOLERANCE);
  expect(afterTp).toBeLessThanOrEqual(CEILING_DBTP);

  const ab = panel.getByRole('group', { name: /A\/B/ });
  const unmastered = ab.getByRole('button', { name: 'Unmastered', exact: true });
  const mastered = ab.getByRole('button', { name: 'Mastered', exact: true });
  await expect(mastered).toHaveAttribute('aria-pressed', 'true');
  await expect(unmastered).toHaveAttribute('aria-pressed', 'false');
  await ab.getByRole('button', { name: 'Play A/B' }).click();
  await expect(ab.getByRole('button', { name: 'Pause A/B' })).toBeVisible();
  const position = async () => Number((await ab.locator('.pos').textContent())!.replace(/[^\d.]/g, ''));
  await expect.poll(position, { timeout: 10_000 }).toBeGreaterThan(0.3);

  await unmastered.click();
  await expect(unmastered).toHaveAttribute('aria-pressed', 'true');
  await expect(mastered).toHaveAttribute('aria-pressed', 'false');
  const atSwitch = await position();
  await expect(ab.getByRole('button', { name: 'Pause A/B' })).toBeVisible();
  await expect.poll(position, { timeout: 10_000 }).toBeGreaterThan(atSwitch + 0.3);

  await mastered.click();
  await expect(mastered).toHaveAttribute('aria-pressed', 'true');
  const atSecondSwitch = await position();
  await expect.poll(position, { timeout: 10_000 }).toBeGreaterThan(atSecondSwitch + 0.3);
  await ab.getByRole('button', { name: 'Pause A/B' }).click();
  await expect(ab.getByRole('button', { name: 'Play A/B' })).toBeVisible();
});

test.describe('bad input', () => {
  test('a silent session still exports a file, and a notice says the mix is silent', async ({ page }) => {
    await openEmpty(page);
    await importFile(page, writeWav('silence.wav', 8, () => 0), 1);
    const item = await exportThroughUi(page, { format: 'mp3', title: 'Silent master' });
    const file = decodeAndMeasure(await download(page, item));
    expect(file.nonFinite).toBe(0);
    expect(file.left.length).toBeGreaterThan(7 * RATE);
    expect(file.report.samplePeakDb).toBeLessThan(-60);
    await expect(page.getByTestId('notice').filter({ hasText: /silent/i }).first()).toBeVisible();
  });

  test('an extremely quiet mix: gain is capped and a notice says so; the file stays under the ceiling', async ({ page }) => {
    await openEmpty(page);
    const amplitude = 10 ** (-60 / 20);
    const quiet = writeWav('quiet-60dbfs.wav', 8, (i) => amplitude * Math.sin((2 * Math.PI * 997 * i) / RATE));
    const input = decodeAndMeasure(quiet).report.integratedLufs;
    await importFile(page, quiet, 1);
    const item = await exportThroughUi(page, { preset: 'streaming', format: 'wav', title: 'Quiet master' });
    const file = decodeAndMeasure(await download(page, item));
    expect(file.nonFinite).toBe(0);
    expect(file.report.truePeakDb).toBeLessThanOrEqual(CEILING_DBTP);
    // Capped at the desk's +24 dB, so it lands far below −14 LUFS but well above where it started.
    expect(file.report.integratedLufs).toBeGreaterThan(input + 18);
    expect(file.report.integratedLufs).toBeLessThan(PRESET_TARGETS.streaming - 5);
    await expect(page.getByTestId('notice').filter({ hasText: /capped/i }).first()).toBeVisible();
  });

  test('a clipped, full-scale input is brought to target and its MP3 meets the ceiling', async ({ page }) => {
    await openEmpty(page);
    // A sine driven 12 dB into the rails: square-ish, flat-topped at full scale.
    const clipped = writeWav('clipped.wav', 8, (i, ch) => Math.max(-1, Math.min(1, 4 * Math.sin((2 * Math.PI * (ch ? 331 : 220) * i) / RATE))));
    expect(decodeAndMeasure(clipped).report.samplePeakDb).toBeGreaterThan(-0.01);
    await importFile(page, clipped, 1);
    const item = await exportThroughUi(page, { preset: 'streaming', format: 'mp3', title: 'Clipped master' });
    expectInSpec(decodeAndMeasure(await download(page, item)), PRESET_TARGETS.streaming, 'clipped mp3');
  });

  test('NaN/Infinity samples: a warning at import, and the export is finite and in spec', async ({ page }) => {
    await openEmpty(page);
    await importFile(page, join(FIXTURE_DIR, 'nan.wav'), 1);
    await expect(page.getByTestId('notice').filter({ hasText: 'nan.wav' }).filter({ hasText: 'NaN' }).first()).toBeVisible();
    const item = await exportThroughUi(page, { preset: 'podcast', format: 'flac', title: 'NaN master' });
    expectInSpec(decodeAndMeasure(await download(page, item)), PRESET_TARGETS.podcast, 'nan flac');
  });
});

test('a deleted export leaves the list, and the remaining exports survive a reload', async ({ page }) => {
  await openDemo(page);
  await exportThroughUi(page, { preset: 'streaming', format: 'mp3', title: 'Keep me' });
  await exportThroughUi(page, { preset: 'streaming', format: 'flac', title: 'Delete me' });
  const items = page.getByTestId('export-item');
  await page.reload();
  await expect(page.getByTestId('track-strip')).toHaveCount(4, { timeout: 60_000 });
  await expect(items).toHaveCount(2);

  await page.getByRole('button', { name: 'Delete Delete me.flac' }).click();
  await expect(items).toHaveCount(1);
  await expect(items.first()).toContainText('Keep me.mp3');

  await page.reload();
  await expect(page.getByTestId('track-strip')).toHaveCount(4, { timeout: 60_000 });
  await expect(items).toHaveCount(1);
  await expect(items.first()).toContainText('Keep me.mp3');
  // What survived is the file itself, not just its name.
  const file = decodeAndMeasure(await download(page, items.first()));
  expectInSpec(file, PRESET_TARGETS.streaming, 'reloaded mp3');
});

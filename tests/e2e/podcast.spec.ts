// Podcast best-of in the real app: drop a synthetic episode, pick a theme and a length, edit the reel with the
// mouse and the keyboard, export, and check the downloaded MP3 and chapters themselves.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { measureLoudness } from '../../src/dsp/loudness';
import { HOST_REFUSED } from '../../src/features/podcast/messages';
// @ts-expect-error plain ESM script without types
import { generatePodcastFixtures, PODCAST_FIXTURE_DIR } from '../fixtures/podcast-episode.mjs';

const fixture = (name: string) => join(PODCAST_FIXTURE_DIR, name);
let scratch: string | undefined;
const workDir = (): string => (scratch ??= mkdtempSync(join(tmpdir(), 'aimixer-podcast-')));

test.beforeAll(() => {
  generatePodcastFixtures();
});

test.afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Drops a file on the app as a user's drag and drop does: a drop event carrying it in a DataTransfer. */
async function dropFile(page: Page, path: string, name: string, type = 'audio/mpeg'): Promise<void> {
  const b64 = readFileSync(path).toString('base64');
  await page.evaluate(
    ({ b64, name, type }) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], name, { type }));
      document.querySelector('.app')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    { b64, name, type },
  );
}

async function openPodcast(page: Page): Promise<void> {
  await page.goto('/#podcast');
  await expect(page.getByTestId('podcast')).toBeVisible();
}

async function seconds(page: Page, testId: string): Promise<number> {
  return Number(await page.getByTestId(testId).getAttribute('data-seconds'));
}

/** Waits until the rendered reel is as long as the plan says (after an edit's re-render). */
async function reelSettled(page: Page): Promise<number> {
  await expect
    .poll(async () => {
      if ((await page.getByTestId('reel-duration').count()) === 0) return Infinity;
      return Math.abs((await seconds(page, 'reel-duration')) - (await seconds(page, 'reel-plan-duration')));
    }, { timeout: 60_000 })
    .toBeLessThan(0.05);
  return seconds(page, 'reel-duration');
}

async function download(page: Page, testId: string, name: string): Promise<string> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  const path = join(workDir(), name);
  await dl.saveAs(path);
  return path;
}

/** ffmpeg's own EBU R128 meter with true peak: an independent check of the file. */
function ebur128(path: string): { lufs: number; truePeakDb: number } {
  const run = spawnSync('ffmpeg', ['-hide_banner', '-nostats', '-i', path, '-af', 'ebur128=peak=true', '-f', 'null', '-'], { encoding: 'utf8' });
  const summary = run.stderr.slice(run.stderr.lastIndexOf('Summary:'));
  return {
    lufs: Number(summary.match(/I:\s+(-?[\d.]+) LUFS/)?.[1]),
    truePeakDb: Number(summary.match(/True peak:\s+Peak:\s+(-?[\d.]+) dBFS/)?.[1]),
  };
}

/** The file decoded by native ffmpeg (its own channel count) and measured by the project's BS.1770 meter. */
function measured(path: string): { lufs: number; truePeakDb: number; channels: number; durationS: number } {
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=channels:format=duration', '-of', 'json', path], { encoding: 'utf8' })) as { streams: { channels: number }[]; format: { duration: string } };
  const channels = probe.streams[0].channels;
  const raw = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', path, '-f', 'f32le', '-ar', '44100', '-'], { maxBuffer: 1 << 30 });
  const all = new Float32Array(new Uint8Array(raw).buffer);
  const planar = Array.from({ length: channels }, (_, c) => Float32Array.from({ length: all.length / channels }, (_, i) => all[i * channels + c]));
  const r = measureLoudness(planar, 44100);
  return { lufs: r.integratedLufs, truePeakDb: r.truePeakDb, channels, durationS: Number(probe.format.duration) };
}

test('drop an episode, choose a theme and length, edit the reel, export an MP3 in spec with its chapters; a reload keeps it all', async ({ page, consoleErrors }) => {
  test.setTimeout(420_000);
  await openPodcast(page);
  // The voice-activity model's registry entry, licence included, is shown before anything is analysed.
  await page.getByText('About the voice-activity model').click();
  await expect(page.getByTestId('podcast-vad-licence')).toHaveText(/^MIT/);
  await dropFile(page, fixture('episode.mp3'), 'episode.mp3');
  await expect(page.getByTestId('podcast-busy')).toBeVisible();
  await expect(page.getByTestId('reel-list')).toBeVisible({ timeout: 180_000 });
  await expect(page.getByTestId('podcast-episode')).toContainText('episode.mp3');
  await expect(page.getByTestId('podcast-episode')).toContainText('2:03');
  // The MP3 was decoded by the page's own decoder, every chunk of it (no silent fallback to ffmpeg.wasm).
  const decoders = await page.evaluate(() => {
    const t = window.__aimixer!.podcast.timings;
    return [t.page_decoded_chunks, t.ffmpeg_decoded_chunks];
  });
  expect(decoders[0]).toBeGreaterThan(0);
  expect(decoders[1]).toBe(0);

  // Heated, 40 s.
  await page.getByTestId('theme-heated').check();
  await page.getByTestId('length-custom').check();
  await page.getByTestId('length-seconds').fill('40');
  await page.getByTestId('build-reel').click();
  await expect.poll(() => seconds(page, 'reel-plan-duration')).toBeCloseTo(40, 0);
  const rendered = await reelSettled(page);
  expect(Math.abs(rendered - 40)).toBeLessThanOrEqual(1);
  const clips = page.getByTestId('reel-clip');
  const clipCount = await clips.count();
  expect(clipCount).toBeGreaterThan(0);
  // The heated exchange (55.9–71.7 s in the script) is in the reel.
  const spans = await clips.evaluateAll((els) => els.map((e) => [Number(e.getAttribute('data-start')), Number(e.getAttribute('data-end'))]));
  expect(spans.some(([a, b]) => a < 57 && b > 70)).toBe(true);

  // Each clip is a region on the episode's waveform.
  const regions = page.locator('[data-testid=episode-waveform] [part~="region"]');
  await expect(regions).toHaveCount(clipCount);

  // Mouse: drag the first region 3 s later on the timeline (a drag of its body moves both cuts).
  const box = (await regions.first().boundingBox())!;
  const wave = (await page.getByTestId('episode-waveform').boundingBox())!;
  const pxPerSecond = wave.width / 122.9;
  const before = spans[0];
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 3 * pxPerSecond, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
  await expect.poll(async () => Number(await clips.first().getAttribute('data-start'))).toBeGreaterThan(before[0] + 1.5);
  await expect(clips.first()).toContainText('(edited)');

  // Keyboard: pull the last clip's end in by 2 s (snapped to a quiet point), then swap another clip in.
  const lastEnd = page.getByTestId('clip-end').last();
  const endBefore = Number(await lastEnd.inputValue());
  await lastEnd.focus();
  await lastEnd.fill(String((endBefore - 2).toFixed(2)));
  await lastEnd.press('Enter');
  await lastEnd.press('Tab');
  await expect.poll(async () => Number(await page.getByTestId('clip-end').last().inputValue())).toBeLessThan(endBefore - 1.4);
  const swapFrom = await clips.evaluateAll((els) => els.map((e) => e.getAttribute('data-start')));
  await page.getByTestId('clip-swap').first().focus();
  await page.keyboard.press('Enter');
  await expect.poll(() => clips.evaluateAll((els) => els.map((e) => e.getAttribute('data-start')).join())).not.toBe(swapFrom.join());
  // Fit the edited reel back to 40 s if the edits moved it off.
  if (await page.getByTestId('reel-refit').count()) await page.getByTestId('reel-refit').click();
  const afterEdits = await reelSettled(page);

  // No cut of the final reel falls inside speech: the source is quiet at every cut.
  const source = readFileSync(fixture('episode.wav'));
  const cuts = await clips.evaluateAll((els) => els.flatMap((e) => [Number(e.getAttribute('data-start')), Number(e.getAttribute('data-end'))]));
  for (const t of cuts) {
    const at = Math.round(t * 44100);
    let ss = 0;
    for (let i = at - 441; i < at + 441; i++) ss += (source.readInt16LE(44 + 4 * Math.max(0, i)) / 32768) ** 2;
    expect(10 * Math.log10(ss / 882 + 1e-12), `level at the cut at ${t.toFixed(2)} s`).toBeLessThan(-40);
  }

  // Export: stereo, −16 LUFS, −1 dBTP, MP3 320k, measured on the downloaded file.
  await page.getByTestId('podcast-export').click();
  await expect(page.getByTestId('podcast-exported')).toBeVisible({ timeout: 180_000 });
  await expect(page.getByTestId('podcast-exported')).toHaveAttribute('data-within-spec', 'true');
  const mp3 = await download(page, 'podcast-download', 'reel.mp3');
  const ours = measured(mp3);
  const theirs = ebur128(mp3);
  expect(ours.channels).toBe(2);
  expect(Math.abs(ours.lufs - -16)).toBeLessThanOrEqual(0.5);
  expect(Math.abs(theirs.lufs - -16)).toBeLessThanOrEqual(0.5);
  expect(ours.truePeakDb).toBeLessThanOrEqual(-1);
  expect(theirs.truePeakDb).toBeLessThanOrEqual(-1);
  expect(Math.abs(ours.durationS - afterEdits)).toBeLessThan(0.1);
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,bit_rate,sample_rate', '-of', 'json', mp3], { encoding: 'utf8' })) as { streams: { codec_name: string; bit_rate: string; sample_rate: string }[] };
  expect(probe.streams[0]).toMatchObject({ codec_name: 'mp3', bit_rate: '320000', sample_rate: '44100' });

  // Chapters: Podcasting 2.0 JSON, one per clip, at its reel time, naming its source time.
  const chaptersPath = await download(page, 'podcast-chapters', 'reel.chapters.json');
  const chapters = JSON.parse(readFileSync(chaptersPath, 'utf8')) as { version: string; chapters: { startTime: number; endTime: number; title: string; sourceStartTime: number; sourceEndTime: number }[] };
  expect(chapters.version).toBe('1.2.0');
  const finalSpans = await clips.evaluateAll((els) => els.map((e) => [Number(e.getAttribute('data-start')), Number(e.getAttribute('data-end'))]));
  expect(chapters.chapters.length).toBe(finalSpans.length);
  let t = 0;
  chapters.chapters.forEach((c, i) => {
    expect(c.startTime).toBeCloseTo(t, 2);
    expect(c.sourceStartTime).toBeCloseTo(finalSpans[i][0], 2);
    expect(c.sourceEndTime).toBeCloseTo(finalSpans[i][1], 2);
    expect(c.title).toContain('of episode.mp3');
    t += finalSpans[i][1] - finalSpans[i][0] - 0.1;
  });
  expect(chapters.chapters.at(-1)!.endTime).toBeCloseTo(afterEdits, 1);

  // A reload brings back the episode, the edited reel and the export.
  await page.evaluate(() => window.__aimixer!.podcast.flush());
  await page.reload();
  await expect(page.getByTestId('reel-list')).toBeVisible({ timeout: 60_000 });
  await expect.poll(() => clips.evaluateAll((els) => els.map((e) => [Number(e.getAttribute('data-start')), Number(e.getAttribute('data-end'))]))).toEqual(finalSpans);
  await expect(page.getByTestId('theme-heated')).toBeChecked();
  await expect(page.getByText(/Earlier exports of this episode \(1\)/)).toBeVisible();
  expect(await reelSettled(page)).toBeCloseTo(afterEdits, 2);
  expect(consoleErrors).toEqual([]);
});

test('a mono episode exports a mono MP3 at −19 LUFS under −1 dBTP', async ({ page }) => {
  test.setTimeout(300_000);
  await openPodcast(page);
  await page.getByTestId('podcast-file').setInputFiles(fixture('episode-mono.mp3'));
  await expect(page.getByTestId('reel-list')).toBeVisible({ timeout: 180_000 });
  await expect(page.getByTestId('layout-mono')).toBeChecked();
  await page.getByTestId('theme-calm').check();
  await page.getByTestId('length-custom').check();
  await page.getByTestId('length-seconds').fill('30');
  await page.getByTestId('build-reel').click();
  await expect.poll(() => seconds(page, 'reel-plan-duration')).toBeCloseTo(30, 0);
  await reelSettled(page);
  await page.getByTestId('podcast-export').click();
  await expect(page.getByTestId('podcast-exported')).toHaveAttribute('data-within-spec', 'true', { timeout: 180_000 });
  const m = measured(await download(page, 'podcast-download', 'mono.mp3'));
  expect(m.channels).toBe(1);
  expect(Math.abs(m.lufs - -19)).toBeLessThanOrEqual(0.5);
  expect(m.truePeakDb).toBeLessThanOrEqual(-1);
  expect(ebur128(join(workDir(), 'mono.mp3')).truePeakDb).toBeLessThanOrEqual(-1);
});

test.describe('bad input', () => {
  let server: Server;
  let port = 0;
  test.beforeAll(async () => {
    // Another origin: /cors/ answers with CORS headers, /nocors/ without (a browser must refuse to read it).
    server = createServer((req, res) => {
      const url = req.url ?? '';
      const file = url.endsWith('short.mp3') ? fixture('short.mp3') : null;
      if (!file) {
        res.writeHead(404).end();
        return;
      }
      const headers: Record<string, string> = { 'content-type': 'audio/mpeg' };
      if (url.startsWith('/cors/')) headers['access-control-allow-origin'] = '*';
      res.writeHead(200, headers).end(readFileSync(file));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
  });
  test.afterAll(() => new Promise<void>((r) => server.close(() => r())));

  test('an empty file and a file that is not audio are refused with a message naming them', async ({ page }) => {
    await openPodcast(page);
    await page.getByTestId('podcast-file').setInputFiles({ name: 'empty.mp3', mimeType: 'audio/mpeg', buffer: Buffer.alloc(0) });
    await expect(page.getByTestId('podcast-error')).toHaveText('empty.mp3: the file is empty (0 bytes)');
    await page.getByTestId('podcast-file').setInputFiles({ name: 'notes.mp3', mimeType: 'audio/mpeg', buffer: Buffer.from('just some text, not an episode at all\n'.repeat(50)) });
    await expect(page.getByTestId('podcast-error')).toContainText('notes.mp3: ');
    await expect(page.getByTestId('reel-list')).toHaveCount(0);
  });

  test('a truncated MP3 is analysed as far as it goes, with a warning', async ({ page }) => {
    test.setTimeout(240_000);
    await openPodcast(page);
    await page.getByTestId('podcast-file').setInputFiles(fixture('truncated.mp3'));
    await expect(page.getByTestId('reel-list')).toBeVisible({ timeout: 180_000 });
    await expect(page.getByTestId('podcast-episode')).toContainText('ends mid-frame');
    await expect(page.getByTestId('reel-duration')).toBeVisible();
  });

  test('a URL the host will not share says so plainly; one it shares opens, and a short episode gives what it has', async ({ page }) => {
    test.setTimeout(240_000);
    await openPodcast(page);
    const refused = `http://127.0.0.1:${port}/nocors/short.mp3`;
    await page.getByTestId('podcast-url').fill(refused);
    await page.getByTestId('podcast-url').press('Enter');
    await expect(page.getByTestId('podcast-error')).toHaveText(`${refused}: ${HOST_REFUSED}`);
    const unreachable = 'http://127.0.0.1:9/episode.mp3';
    await page.getByTestId('podcast-url').fill(unreachable);
    await page.getByTestId('podcast-url').press('Enter');
    await expect(page.getByTestId('podcast-error')).toHaveText(`${unreachable}: ${HOST_REFUSED}`);

    await page.getByTestId('podcast-url').fill(`http://127.0.0.1:${port}/cors/short.mp3`);
    await page.getByTestId('podcast-url').press('Enter');
    await expect(page.getByTestId('reel-list')).toBeVisible({ timeout: 180_000 });
    await expect(page.getByTestId('podcast-episode')).toContainText('short.mp3');
    // 90 s from a ~20 s episode: a clear message, and a reel of what exists.
    await expect(page.getByTestId('reel-message')).toContainText('short.mp3: the episode is only 0:');
    await expect(page.getByTestId('reel-message')).toContainText('shorter than the 1:30 reel asked for');
    const d = await reelSettled(page);
    expect(d).toBeGreaterThan(5);
    expect(d).toBeLessThan(25);
  });

  test('cancel stops the analysis and says so', async ({ page }) => {
    await openPodcast(page);
    await page.getByTestId('podcast-file').setInputFiles(fixture('episode.mp3'));
    await expect(page.getByTestId('podcast-busy')).toBeVisible();
    await page.getByTestId('podcast-busy').getByRole('button', { name: 'Cancel' }).click();
    await expect(page.getByTestId('podcast-busy')).toHaveCount(0);
    await expect(page.getByText('Cancelled.')).toBeVisible();
    await expect(page.locator('[data-testid=job][data-kind=podcast][data-status=running]')).toHaveCount(0);
    await expect(page.getByTestId('reel-list')).toHaveCount(0);
  });
});

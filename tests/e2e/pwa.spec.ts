// Installable and offline: manifest, service worker precache, and a working studio with the network off.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from './fixtures';
import { pcm16Wav } from './wav';
// @ts-expect-error plain ESM script without types
import { FIXTURE_DIR, generateFixtures } from '../fixtures/generate.mjs';

test.beforeAll(() => {
  generateFixtures();
});

/** A 1 s 440 Hz stereo 16-bit WAV, written by the test itself. */
function writeToneWav(path: string): void {
  const rate = 44100;
  const data = Buffer.alloc(rate * 4);
  for (let i = 0; i < rate; i++) {
    const v = Math.round(0.3 * 32767 * Math.sin((2 * Math.PI * 440 * i) / rate));
    data.writeInt16LE(v, i * 4);
    data.writeInt16LE(v, i * 4 + 2);
  }
  writeFileSync(path, pcm16Wav(rate, 2, data));
}

test('has a web manifest with installable icons', async ({ page, request }) => {
  await page.goto('/');
  const href = await page.locator('link[rel=manifest]').getAttribute('href');
  const manifest = await (await request.get(href!)).json();
  expect(manifest.name).toBe('AI Mixer');
  expect(manifest.display).toBe('standalone');
  const sizes = manifest.icons.map((i: { sizes: string }) => i.sizes);
  expect(sizes).toContain('192x192');
  expect(sizes).toContain('512x512');
  for (const icon of manifest.icons) expect((await request.get(icon.src)).status()).toBe(200);
});

test('works offline after the first visit, including importing a file', async ({ page, context }) => {
  const wav = join(mkdtempSync(join(tmpdir(), 'aimixer-offline-')), 'offline-tone.wav');
  writeToneWav(wav);
  await page.goto('/');
  await page.evaluate(() => window.__aimixer!.offlineReady);
  await expect(page.getByTestId('track-strip')).toHaveCount(4, { timeout: 60_000 });

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'AI Mixer' })).toBeVisible();
  await expect(page.getByTestId('track-strip')).toHaveCount(4, { timeout: 60_000 });
  await page.getByTestId('file-input').setInputFiles(wav);
  await expect(page.getByTestId('track-strip').filter({ has: page.locator('h3[title="offline-tone.wav"]') })).toBeVisible({ timeout: 30_000 });
  // A format that needs the self-hosted ffmpeg.wasm core, from the precache.
  const flac = join(FIXTURE_DIR as string, 'stereo.flac');
  await page.getByTestId('file-input').setInputFiles(flac);
  await expect(page.getByTestId('track-strip').filter({ has: page.locator('h3[title="stereo.flac"]') })).toBeVisible({ timeout: 60_000 });
  await context.setOffline(false);
});

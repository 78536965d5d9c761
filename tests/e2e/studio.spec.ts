// The studio foundation driven as a user would: import, mix, hear it in the render, reload, cancel.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';
// @ts-expect-error plain ESM script without types
import { FIXTURES, FIXTURE_DIR, generateFixtures } from '../fixtures/generate.mjs';

interface FixtureSpec {
  file: string;
  expect: { ok: boolean; channels?: number; durationS?: number; reason?: string; warning?: string };
}
const fixtures = FIXTURES as FixtureSpec[];

test.beforeAll(() => {
  generateFixtures();
});

async function openFresh(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'AI Mixer' })).toBeVisible();
  // The first visit opens the demo session; wait for it so its imports don't race ours.
  await expect(page.getByTestId('track-strip')).toHaveCount(4, { timeout: 60_000 });
  await page.getByRole('button', { name: 'New session' }).click();
  await expect(page.getByTestId('track-strip')).toHaveCount(0);
}

async function mixRms(page: Page): Promise<number> {
  const levels = page.getByTestId('mix-levels');
  await expect(levels).toBeVisible({ timeout: 30_000 });
  return Number(await levels.getAttribute('data-rms-db'));
}

test('opens on the demo session with four stems, meters and a rendered mix', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('track-strip')).toHaveCount(4, { timeout: 60_000 });
  for (const name of ['drums', 'bass', 'chords', 'lead']) await expect(page.getByRole('region', { name: `Track ${name}` })).toBeVisible();
  const rms = await mixRms(page);
  expect(rms).toBeGreaterThan(-40);
  await page.keyboard.press('Space');
  await expect(page.getByRole('button', { name: 'Pause' })).toBeVisible();
  // Live meters move while playing.
  await expect
    .poll(async () => Number((await page.getByTestId('master-strip').getByTestId('meter-peak').textContent())?.replace(/[^\d.−-]/g, '').replace('−', '-')), { timeout: 15_000 })
    .toBeGreaterThan(-40);
  await page.keyboard.press('Space');
  await expect(page.getByRole('button', { name: 'Play' })).toBeVisible();
});

test('imports every format at once; bad files get a clear message naming the file and the others still import', async ({ page }) => {
  await openFresh(page);
  await page.getByTestId('file-input').setInputFiles(fixtures.map((f) => join(FIXTURE_DIR, f.file)));
  const good = fixtures.filter((f) => f.expect.ok);
  await expect(page.getByTestId('track-strip')).toHaveCount(good.length, { timeout: 90_000 });
  for (const f of good) {
    const strip = page.getByTestId('track-strip').filter({ has: page.locator(`h3[title="${f.file}"]`) });
    await expect(strip).toBeVisible();
    await expect(strip).toContainText(f.expect.channels === 1 ? 'mono' : 'stereo');
    const secs = Number((await strip.locator('.info').textContent())!.match(/([\d.]+) s/)![1]);
    expect(Math.abs(secs - f.expect.durationS!)).toBeLessThanOrEqual(0.1);
  }
  for (const f of fixtures.filter((x) => !x.expect.ok)) {
    const notice = page.getByTestId('notice').filter({ hasText: f.file });
    await expect(notice).toHaveAttribute('data-level', 'error');
    await expect(notice).toContainText(f.expect.reason!);
  }
  for (const f of fixtures.filter((x) => x.expect.warning)) {
    const notice = page.getByTestId('notice').filter({ hasText: f.file });
    await expect(notice.first()).toContainText(f.expect.warning!);
  }
});

test('a fader move is heard in the offline render, and the session survives a reload exactly', async ({ page }) => {
  await openFresh(page);
  await page.getByTestId('file-input').setInputFiles(join(FIXTURE_DIR, 'stereo-16bit-44k.wav'));
  await expect(page.getByTestId('track-strip')).toHaveCount(1, { timeout: 30_000 });
  // The mix render is debounced (700 ms): let the new session's render start, then finish, before reading its level.
  await page.waitForTimeout(1000);
  await expect
    .poll(() => page.evaluate(() => window.__aimixer!.studio.jobs.some((j: { status: string }) => j.status === 'queued' || j.status === 'running')), { timeout: 30_000 })
    .toBe(false);
  const before = await mixRms(page);
  const fader = page.getByTestId('gain-stereo-16bit-44k');
  await fader.focus();
  for (let i = 0; i < 60; i++) await page.keyboard.press('ArrowLeft'); // 60 × 0.1 dB
  await expect(fader).toHaveAttribute('aria-valuetext', '-6.0 dB');
  // Under load the debounced render may first show an intermediate fader value: wait for the final one.
  await expect.poll(async () => (await mixRms(page)) - before, { timeout: 30_000 }).toBeCloseTo(-6, 1);
  const after = await mixRms(page);

  // Pan hard left from the keyboard, then reload: every setting comes back.
  const pan = page.getByTestId('pan-stereo-16bit-44k');
  await pan.focus();
  await page.keyboard.press('Home');
  await expect(pan).toHaveAttribute('aria-valuetext', 'L100');
  await page.waitForTimeout(600); // debounced save
  await page.reload();
  await expect(page.getByTestId('track-strip')).toHaveCount(1, { timeout: 30_000 });
  await expect(page.getByTestId('gain-stereo-16bit-44k')).toHaveAttribute('aria-valuetext', '-6.0 dB');
  await expect(page.getByTestId('pan-stereo-16bit-44k')).toHaveAttribute('aria-valuetext', 'L100');
  // Hard left on a stereo track keeps only the left channel: about 3 dB less RMS than before the pan.
  const reloaded = await mixRms(page);
  expect(reloaded).toBeLessThan(after - 2);
});

test('live playback and the offline render null to below -60 dBFS', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('track-strip')).toHaveCount(4, { timeout: 60_000 });
  const residualDb = await page.evaluate(async () => {
    const studio = window.__aimixer!.studio;
    const mix = studio.session!.mix;
    // Exercise every stage: EQ, compressors, pan, gains, the master chain and the limiter.
    const ids = studio.session!.tracks.map((t: { id: string }) => t.id);
    mix.tracks[ids[0]].eq[1].gainDb = 6;
    mix.tracks[ids[0]].comp.enabled = true;
    mix.tracks[ids[1]].pan = -0.6;
    mix.tracks[ids[2]].gainDb = -4;
    mix.tracks[ids[3]].comp = { ...mix.tracks[ids[3]].comp, enabled: true, thresholdDb: -30, ratio: 6 };
    mix.master.eq[3].gainDb = 3;
    mix.master.comp.enabled = true;
    mix.master.gainDb = 6;
    await new Promise((r) => setTimeout(r, 100));
    const frames = studio.sampleRate * 3;
    const live = await studio.captureLive(frames);
    const offline = await studio.renderMix();
    let worst = 0;
    let energy = 0;
    for (let i = 0; i + live.latencyFrames < frames && i < offline.left.length; i++) {
      const l = live.left[i + live.latencyFrames];
      const r = live.right[i + live.latencyFrames];
      worst = Math.max(worst, Math.abs(l - offline.left[i]), Math.abs(r - offline.right[i]));
      energy += l * l;
    }
    if (energy === 0) return 999; // a silent capture proves nothing
    return 20 * Math.log10(worst || 1e-12);
  });
  expect(residualDb).toBeLessThanOrEqual(-60);
});

test('a long import shows progress and can be cancelled; the next import still works', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'aimixer-long-'));
  const long = join(dir, 'long-take.mp3');
  if (!existsSync(long)) execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=220:duration=1500', '-ac', '2', '-b:a', '128k', long]);
  await openFresh(page);
  await page.getByTestId('file-input').setInputFiles(long);
  const job = page.getByTestId('job').filter({ hasText: 'long-take.mp3' });
  await expect(job).toHaveAttribute('data-status', 'running', { timeout: 30_000 });
  await job.getByRole('button', { name: /Cancel/ }).click();
  await expect(job).toHaveAttribute('data-status', 'cancelled');
  await expect(page.getByTestId('track-strip')).toHaveCount(0);
  await page.getByTestId('file-input').setInputFiles(join(FIXTURE_DIR, 'stereo.flac'));
  await expect(page.getByTestId('track-strip')).toHaveCount(1, { timeout: 60_000 });
});

test('a loop region and the playhead survive a reload', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('track-strip')).toHaveCount(4, { timeout: 60_000 });
  await page.getByRole('checkbox', { name: 'Loop' }).check();
  await page.getByRole('spinbutton', { name: 'Loop start' }).fill('2');
  await page.getByRole('spinbutton', { name: 'Loop start' }).press('Enter');
  await page.getByRole('spinbutton', { name: 'Loop end' }).fill('6');
  await page.getByRole('spinbutton', { name: 'Loop end' }).press('Enter');
  await page.getByRole('button', { name: 'Play' }).click();
  await page.waitForTimeout(5000);
  const t = await page.evaluate(() => window.__aimixer!.studio.position);
  expect(t).toBeGreaterThanOrEqual(2);
  expect(t).toBeLessThan(6.1);
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.waitForTimeout(600);
  await page.reload();
  await expect(page.getByTestId('track-strip')).toHaveCount(4, { timeout: 60_000 });
  await expect(page.getByRole('checkbox', { name: 'Loop' })).toBeChecked();
  await expect(page.getByRole('spinbutton', { name: 'Loop start' })).toHaveValue('2.0');
  await expect(page.getByRole('spinbutton', { name: 'Loop end' })).toHaveValue('6.0');
});

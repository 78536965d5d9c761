// Auto-mix driven as a user would: from the keyboard on the demo session, see what changed, hear it
// in the render, undo it, and read what the model is.
import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';

const STEMS = ['drums', 'bass', 'chords', 'lead'];

async function faders(page: Page): Promise<string[]> {
  return Promise.all(STEMS.map(async (n) => (await page.getByTestId(`gain-${n}`).getAttribute('aria-valuetext')) ?? ''));
}

async function mixRms(page: Page): Promise<number> {
  const levels = page.getByTestId('mix-levels');
  await expect(levels).toBeVisible({ timeout: 30_000 });
  return Number(await levels.getAttribute('data-rms-db'));
}

test('auto-mix on the demo session moves the faders, shows what changed, is heard, and undoes', async ({ page, consoleErrors }) => {
  // The analysis runs on its WebAssembly (kernels, PFFFT), not on the TypeScript fallbacks.
  const fallbacks: string[] = [];
  page.on('console', (m) => {
    if (/did not load/.test(m.text())) fallbacks.push(m.text());
  });
  await page.goto('/');
  await expect(page.getByTestId('track-strip')).toHaveCount(4, { timeout: 60_000 });
  const rmsBefore = await mixRms(page);
  const before = await faders(page);
  expect(before).toEqual(['0.0 dB', '0.0 dB', '0.0 dB', '0.0 dB']);

  const panel = page.getByRole('region', { name: 'Auto-mix' });
  await expect(panel.getByTestId('automix-model')).toHaveValue('equal-loudness');
  const button = panel.getByRole('button', { name: 'Auto-mix', exact: true });
  await button.focus();
  await page.keyboard.press('Enter');

  const rows = panel.getByTestId('automix-change');
  await expect(rows).toHaveCount(4, { timeout: 60_000 });
  expect(fallbacks).toEqual([]);
  for (const n of STEMS) await expect(rows.filter({ has: page.getByRole('rowheader', { name: n, exact: true }) })).toHaveCount(1);
  const after = await faders(page);
  expect(after.filter((v) => v !== '0.0 dB').length).toBeGreaterThan(0);
  // The table states the same fader values the strips show.
  for (const [k, n] of STEMS.entries()) {
    const cell = await rows.filter({ has: page.getByRole('rowheader', { name: n, exact: true }) }).locator('td').first().textContent();
    expect(Number(cell!.split('→')[1])).toBeCloseTo(Number(after[k].replace(' dB', '')), 1);
  }
  // Features were computed once and cached with the session.
  expect(await page.evaluate(() => Object.keys(window.__aimixer!.studio.session!.features ?? {}).length)).toBe(4);

  await expect.poll(async () => Math.abs((await mixRms(page)) - rmsBefore), { timeout: 30_000 }).toBeGreaterThan(0.1);

  await panel.getByRole('button', { name: 'Undo auto-mix' }).click();
  await expect.poll(() => faders(page)).toEqual(before);
  await expect(rows).toHaveCount(0);
  await expect(panel.getByRole('button', { name: 'Undo auto-mix' })).toHaveCount(0);
  await expect.poll(async () => Math.abs((await mixRms(page)) - rmsBefore), { timeout: 30_000 }).toBeLessThan(0.01);

  const about = panel.getByTestId('automix-about');
  await about.getByText('About this model').click();
  await expect(about.getByTestId('automix-licence')).toHaveText('Project code: no third-party weights or data');
  await expect(about).toContainText('non-neural');
  await expect(about).toContainText('1.0.0');

  expect(consoleErrors).toEqual([]);
});

// Debian's Chromium driven through playwright-core, with a fresh profile per test; never a downloaded browser.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base, expect, chromium, type BrowserContext, type Page } from '@playwright/test';
import { CHROMIUM_ARGS as SHARED_CHROMIUM_ARGS } from '../../scripts/chromium-args.mjs';

// WebGPU on SwiftShader here: slow but real, so its code path can be tested.
export const CHROMIUM_ARGS = [...SHARED_CHROMIUM_ARGS, '--enable-unsafe-webgpu'];

export async function launchChromium(baseURL?: string): Promise<{ context: BrowserContext; profile: string }> {
  const profile = mkdtempSync(join(tmpdir(), 'aimixer-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    baseURL,
    viewport: { width: 1400, height: 900 },
    acceptDownloads: true,
  });
  return { context, profile };
}

export const test = base.extend<{ context: BrowserContext; page: Page; consoleErrors: string[] }>({
  context: async ({ baseURL }, use) => {
    const { context, profile } = await launchChromium(baseURL);
    await use(context);
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  },
  page: async ({ context }, use) => {
    const page = context.pages()[0] ?? (await context.newPage());
    await use(page);
  },
  consoleErrors: async ({ page }, use) => {
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await use(errors);
  },
});

export { expect };

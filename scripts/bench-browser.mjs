// The benchmark's browser: Debian's Chromium, headless, on a fresh profile, with page errors collected.
// Shared by the mix part (bench.mjs) and the podcast part (bench-podcast.mjs).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from './chromium-args.mjs';

/**
 * Launches Chromium on a new profile (removed by `cleanups`) and returns its first page; page errors and
 * console errors go to `pageErrors`.
 */
export async function openBenchBrowser(prefix, cleanups, pageErrors) {
  const profile = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(profile, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 900 },
    // The bench's own handlers clean up in order (server, stems, temp dirs); Playwright's would exit first.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  cleanups.push(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(e.stack ?? e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  return { context, page, profile };
}

// The Metrics page through the real app: the demo's stems imported on first visit and an MP3 exported from the
// Mastering panel show up as counts and a p50 per job kind; the JSON download holds them and no names; turning
// recording off deletes them, and the choice survives a reload.
import { readFileSync } from 'node:fs';
import { test, expect } from './fixtures';

test('imports and an MP3 export appear on the Metrics page, download as JSON, and recording off deletes them for good', async ({ page, consoleErrors }) => {
  await page.goto('/');
  await expect(page.getByTestId('track-strip')).toHaveCount(4, { timeout: 60_000 });

  const mastering = page.getByTestId('mastering');
  await mastering.getByTestId('export-format').selectOption('mp3');
  await mastering.getByRole('textbox', { name: 'Title' }).fill('Metrics private title');
  await mastering.getByTestId('export').click();
  await expect(mastering.getByTestId('export-item')).toHaveCount(1, { timeout: 120_000 });

  await page.getByTestId('tab-metrics').click();
  await expect(page).toHaveURL(/#metrics$/);
  const metrics = page.getByTestId('metrics');
  await expect(metrics.getByTestId('recording')).toBeChecked();
  // The page reads again as jobs finish; the demo's four stems are four imports.
  await expect(metrics.getByTestId('count-imports')).toHaveText('4');
  await expect.poll(async () => Number(await metrics.getByTestId('count-exports').textContent())).toBeGreaterThanOrEqual(2);
  const exportRow = metrics.locator('[data-testid="kind-row"][data-kind="export"]');
  await expect(exportRow.getByTestId('p50')).toHaveText(/\d+(\.\d+)? (ms|s)/);
  expect(Number(await exportRow.getByTestId('p50').getAttribute('data-ms'))).toBeGreaterThan(0);
  await expect(metrics.locator('[data-testid="kind-row"][data-kind="decode"]').getByTestId('done')).toHaveText('4');
  await expect(metrics.getByRole('img', { name: /Job time by kind/ })).toBeVisible();
  await expect(metrics.getByRole('img', { name: /Storage use over time/ })).toBeVisible();

  const [download] = await Promise.all([page.waitForEvent('download'), metrics.getByTestId('metrics-download').click()]);
  expect(download.suggestedFilename()).toMatch(/^ai-mixer-metrics-\d{4}-\d{2}-\d{2}\.json$/);
  const text = readFileSync((await download.path())!, 'utf8');
  // Demo stem names, the session's name and the export's title stay out.
  expect(text).not.toMatch(/\.wav|\.mp3|private title|Import |Encode /i);
  const doc = JSON.parse(text);
  expect(doc).toMatchObject({ format: 'ai-mixer-metrics', version: 1, summary: { imports: 4 } });
  const exportJobs = doc.events.filter((e: { type: string; kind?: string; status?: string; ahead?: boolean }) => e.type === 'job' && e.kind === 'export' && e.status === 'done' && !e.ahead);
  expect(exportJobs.length).toBeGreaterThanOrEqual(2);
  // In a real worker the progress stages are timed: the encode's (its bit rate a count, so '#') and the decode-back check's.
  const stages = new Set(exportJobs.flatMap((e: { stages: { stage: string }[] }) => e.stages.map((s) => s.stage)));
  expect([...stages]).toEqual(expect.arrayContaining(['encoding MP3 # kbps', 'decoding the export']));
  expect(doc.events.some((e: { type: string }) => e.type === 'storage')).toBe(true);

  await metrics.getByTestId('recording').uncheck();
  await expect(metrics.getByTestId('count-events')).toHaveText('0');
  await expect(metrics.getByTestId('metrics-empty')).toContainText('Recording is off');
  expect(await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('ai-mixer');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const count = await new Promise<number>((resolve) => {
      const req = db.transaction('metricEvents').objectStore('metricEvents').count();
      req.onsuccess = () => resolve(req.result);
    });
    db.close();
    return count;
  })).toBe(0);

  await page.reload();
  await expect(page.getByTestId('metrics').getByTestId('recording')).not.toBeChecked();
  await expect(page.getByTestId('metrics').getByTestId('recording')).toBeEnabled();
  await expect(page.getByTestId('metrics').getByTestId('count-events')).toHaveText('0');
  expect(consoleErrors).toEqual([]);
});

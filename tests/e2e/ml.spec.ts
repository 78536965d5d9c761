// The trained auto-mix model in the real app: weights through the hash-checked IndexedDB cache,
// the per-device self-check on WebGPU (SwiftShader here) against WASM, and the fallbacks.
import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';

const STEMS = ['drums', 'bass', 'chords', 'lead'];

async function faders(page: Page): Promise<string[]> {
  return Promise.all(STEMS.map(async (n) => (await page.getByTestId(`gain-${n}`).getAttribute('aria-valuetext')) ?? ''));
}

async function autoMix(page: Page, modelId: string): Promise<void> {
  const panel = page.getByRole('region', { name: 'Auto-mix' });
  await panel.getByTestId('automix-model').selectOption(modelId);
  await panel.getByRole('button', { name: 'Auto-mix', exact: true }).click();
  await expect(panel.getByTestId('automix-change')).toHaveCount(4, { timeout: 90_000 });
}

test('the int8 model runs on WebGPU after its self-check, changes the faders, and undoes', async ({ page, consoleErrors }) => {
  await page.goto('/');
  await expect(page.getByTestId('track-strip')).toHaveCount(4, { timeout: 60_000 });
  const before = await faders(page);
  await autoMix(page, 'mixnet-int8');
  const panel = page.getByRole('region', { name: 'Auto-mix' });
  const runtime = panel.getByTestId('automix-runtime');
  await expect(runtime).toHaveAttribute('data-ep', 'webgpu');
  await expect(runtime).toContainText('Ran on WebGPU');
  expect((await faders(page)).filter((v, i) => v !== before[i]).length).toBeGreaterThan(0);

  // The weights were cached with their hash, and the self-check's verdict remembered.
  const cached = await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((res, rej) => {
      const r = indexedDB.open('ai-mixer');
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const get = (store: string, key: string) =>
      new Promise<unknown>((res) => {
        const r = db.transaction(store).objectStore(store).get(key);
        r.onsuccess = () => res(r.result);
      });
    const model = (await get('models', 'mixnet-int8')) as { sha256: string; bytes: number } | undefined;
    const check = (await get('kv', 'ml.selfcheck.mixnet-int8')) as { result: { ep: string; maxAbsDiff: number } } | undefined;
    db.close();
    return { sha: model?.sha256, bytes: model?.bytes, check: check?.result };
  });
  const meta = await page.evaluate(() => window.__aimixer!.automix.models.find((m) => m.id === 'mixnet-int8'));
  expect(cached.sha).toBe(meta!.files[0].sha256);
  expect(cached.bytes).toBe(meta!.files[0].sizeBytes);
  expect(cached.check?.ep).toBe('webgpu');
  expect(cached.check!.maxAbsDiff).toBeLessThanOrEqual(1e-3);

  await panel.getByRole('button', { name: 'Undo auto-mix' }).click();
  await expect.poll(() => faders(page)).toEqual(before);
  expect(consoleErrors).toEqual([]);
});

test('a forced WebGPU/WASM mismatch falls back to WASM and says so', async ({ page }) => {
  // A negative tolerance makes every self-check comparison a mismatch.
  await page.addInitScript(() => localStorage.setItem('aimixer.ml', JSON.stringify({ selfCheckTolerance: -1 })));
  await page.goto('/');
  await expect(page.getByTestId('track-strip')).toHaveCount(4, { timeout: 60_000 });
  await autoMix(page, 'mixnet-fp32');
  const runtime = page.getByTestId('automix-runtime');
  await expect(runtime).toHaveAttribute('data-ep', 'wasm');
  await expect(runtime).toContainText('differ from WASM');
  await expect(page.getByTestId('notice').filter({ hasText: 'so the model runs on WASM' })).toBeVisible();
});

test('a damaged cached model is detected and downloaded again', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('track-strip')).toHaveCount(4, { timeout: 60_000 });
  await autoMix(page, 'mixnet-fp16');
  await expect(page.getByTestId('automix-runtime')).toContainText('weights downloaded and cached');
  // Flip bytes in the cached weights, as a disk error would.
  await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((res) => {
      const r = indexedDB.open('ai-mixer');
      r.onsuccess = () => res(r.result);
    });
    await new Promise<void>((res) => {
      const store = db.transaction('models', 'readwrite').objectStore('models');
      const r = store.get('mixnet-fp16');
      r.onsuccess = () => {
        const rec = r.result as { data: ArrayBuffer };
        const bytes = new Uint8Array(rec.data);
        for (let i = 200; i < 260; i++) bytes[i] ^= 0x5a;
        store.put(rec).onsuccess = () => res();
      };
    });
    db.close();
  });
  await page.reload();
  await expect(page.getByTestId('track-strip')).toHaveCount(4, { timeout: 60_000 });
  await autoMix(page, 'mixnet-fp16');
  await expect(page.getByTestId('notice').filter({ hasText: 'were damaged; they were downloaded again' })).toBeVisible();
  await expect(page.getByTestId('automix-runtime')).toContainText('weights downloaded and cached');
});

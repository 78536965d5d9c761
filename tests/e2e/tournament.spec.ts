// The model tournament on the demo session, against the real vote endpoint started here (its own
// SQLite file, a free loopback port): blind pairs, the vote locked until both sides were really
// heard, ratings, a bad token shown plainly, and a vote cast offline that syncs exactly once.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { test, expect } from './fixtures';

const TOKEN = 'tournament-e2e-token';
const LISTEN_MS = 5000;

interface Endpoint {
  url: string;
  proc: ChildProcess;
  dir: string;
}

/** `npm run endpoint` without npm in between, so the test can stop exactly the process it started. */
async function startEndpoint(origin: string): Promise<Endpoint> {
  const dir = mkdtempSync(join(tmpdir(), 'aimixer-votes-'));
  const proc = spawn(process.execPath, ['--import', 'tsx', 'endpoint/main.ts', '--port', '0', '--db', join(dir, 'votes.db'), '--origin', origin, '--token', TOKEN], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the endpoint did not start within 30 s: ${stderr}`)), 30_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n')) {
        try {
          const msg = JSON.parse(line) as { event?: string; url?: string };
          if (msg.event === 'listening' && msg.url) {
            clearTimeout(timer);
            resolve(msg.url);
          }
        } catch {
          // not a whole JSON line yet
        }
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the endpoint exited with ${code}: ${stderr}`));
    });
  });
  return { url, proc, dir };
}

async function stopEndpoint(e: Endpoint): Promise<void> {
  if (e.proc.exitCode === null) {
    const exited = new Promise((r) => e.proc.once('exit', r));
    e.proc.kill('SIGTERM');
    await exited;
  }
  rmSync(e.dir, { recursive: true, force: true });
}

/** What the endpoint itself has stored, asked from Node (unaffected by the browser going offline). */
async function endpointBoard(e: Endpoint): Promise<{ totalVotes: number; models: { id: string; votes: number }[] }> {
  const res = await fetch(`${e.url}/v1/leaderboard`);
  expect(res.status).toBe(200);
  return (await res.json()) as { totalVotes: number; models: { id: string; votes: number }[] };
}

const heardMs = async (panel: Locator, side: 'a' | 'b') => Number(await panel.getByTestId(`heard-${side}`).getAttribute('data-ms'));

/** Listens to one side by its key until it has been heard for the required time. */
async function listen(page: Page, panel: Locator, side: 'a' | 'b'): Promise<void> {
  await page.keyboard.press(side === 'a' ? '1' : '2');
  await expect(panel.getByTestId(`side-${side}`)).toHaveAttribute('aria-pressed', 'true');
  await expect.poll(() => heardMs(panel, side), { timeout: 20_000, intervals: [250] }).toBeGreaterThanOrEqual(LISTEN_MS);
}

test('a blind tournament on the demo session: locked until both sides are heard, rated, synced exactly once after voting offline', async ({ page, context, baseURL, consoleErrors }) => {
  test.setTimeout(180_000);
  const endpoint = await startEndpoint(new URL(baseURL!).origin);
  try {
    // Every POST the app makes, with the vote ids it carried and the answer it got.
    const posts: { ids: string[]; status: number }[] = [];
    page.on('response', (res) => {
      const req = res.request();
      if (req.method() !== 'POST' || !req.url().endsWith('/v1/votes')) return;
      posts.push({ ids: (JSON.parse(req.postData() ?? '{}') as { votes: { id: string }[] }).votes.map((v) => v.id), status: res.status() });
    });
    const acceptedPosts = (id: string) => posts.filter((p) => p.status === 200 && p.ids.includes(id)).length;

    await page.goto('/');
    await expect(page.getByTestId('track-strip')).toHaveCount(4, { timeout: 60_000 });
    const panel = page.getByTestId('tournament');

    // Keyboard: the panel opens from its heading button.
    const disclosure = panel.getByRole('button', { name: 'Model tournament' });
    await expect(disclosure).toHaveAttribute('aria-expanded', 'false');
    await disclosure.focus();
    await page.keyboard.press('Enter');
    await expect(disclosure).toHaveAttribute('aria-expanded', 'true');

    // Sync is off by default; turn it on with a wrong token first.
    const sync = panel.getByTestId('vote-sync');
    await sync.locator('summary').click();
    await expect(sync.getByTestId('sync-status')).toHaveAttribute('data-state', 'off');
    await sync.getByLabel('Sync votes to an endpoint').check();
    await sync.getByLabel('Endpoint URL').fill(endpoint.url);
    await sync.getByLabel('Token (optional)').fill('wrong-token');
    await sync.getByRole('button', { name: 'Save sync settings' }).click();
    await expect(panel.getByTestId('global-leaderboard')).toContainText('No votes yet.');

    // Contestants: every registry model and the console are offered; this run judges the baseline against the console.
    const boxes = panel.getByRole('group', { name: 'Contestants' }).getByRole('checkbox');
    expect(await boxes.count()).toBeGreaterThanOrEqual(2);
    for (const box of await boxes.all()) {
      const name = (await box.locator('xpath=..').innerText()).trim();
      if (!/^Equal loudness \(baseline\)|^Your console/.test(name)) await box.uncheck();
      else await expect(box).toBeChecked();
    }
    await panel.screenshot({ path: test.info().outputPath('tournament-setup.png') });

    // Rendering runs as cancellable jobs.
    await panel.getByRole('button', { name: 'Start tournament' }).click();
    await panel.getByRole('status').getByRole('button', { name: 'Cancel' }).click();
    await expect(page.getByTestId('notice').filter({ hasText: 'Rendering cancelled.' })).toBeVisible();
    await expect(panel).toHaveAttribute('data-phase', 'setup');

    await panel.getByRole('button', { name: 'Start tournament' }).click();
    const arena = panel.getByRole('group', { name: 'Blind A/B' });
    await expect(arena).toBeVisible({ timeout: 90_000 });
    const voteButtons = arena.getByRole('group', { name: 'Your vote' }).getByRole('button');
    await expect(voteButtons).toHaveCount(4);
    for (const b of await voteButtons.all()) await expect(b).toBeDisabled();
    // Both renders were loudness-matched to one stated level.
    await expect(arena).toContainText(/play at -\d+\.\d LUFS/);
    const pair = await page.evaluate(() => JSON.parse(JSON.stringify(window.__aimixer!.tournament.pair)) as { a: string; b: string } | null);
    expect(pair && pair.a !== pair.b).toBe(true);
    // The two mixes differ, and after matching both play at the same integrated loudness.
    const renders = await page.evaluate(() => window.__aimixer!.tournament.renders);
    expect(renders.map((r) => r.id).sort()).toEqual(['equal-loudness', 'unity']);
    expect(Math.abs(renders[0].rmsDb - renders[1].rmsDb)).toBeGreaterThan(0.05);
    expect(Math.abs(renders[0].lufs + renders[0].matchGainDb - (renders[1].lufs + renders[1].matchGainDb))).toBeLessThan(0.01);
    expect(Math.max(...renders.map((r) => r.matchGainDb))).toBeLessThanOrEqual(0);

    // A loop drawn on the waveform keeps playback inside it.
    const wave = arena.getByTestId('waveform');
    const box = (await wave.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.45, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    const loop = await page.evaluate(() => window.__aimixer!.tournament.loop);
    expect(loop.enabled).toBe(true);
    expect(loop.end - loop.start).toBeGreaterThan(5);

    // A alone is not enough, and paused time does not count.
    await listen(page, arena, 'a');
    const position = async () => Number((await arena.getByTestId('tournament-position').textContent())!.replace(/[^\d.]/g, ''));
    const t = await position();
    expect(t).toBeGreaterThanOrEqual(loop.start - 0.05);
    expect(t).toBeLessThanOrEqual(loop.end + 0.05);
    await arena.getByRole('button', { name: 'Pause A/B' }).click();
    await expect(arena.getByRole('button', { name: 'Play A/B' })).toBeVisible();
    const pausedA = await heardMs(arena, 'a');
    await page.waitForTimeout(1200);
    expect(await heardMs(arena, 'a')).toBe(pausedA);
    expect(await heardMs(arena, 'b')).toBe(0);
    for (const b of await voteButtons.all()) await expect(b).toBeDisabled();
    await expect(arena.getByTestId('vote-hint')).toContainText('each side has been heard for 5 s');

    // Key 2 switches to B and plays on from where A paused; time heard on B never counts for A.
    const paused = await position();
    await page.keyboard.press('2');
    await expect(arena.getByRole('button', { name: 'Pause A/B' })).toBeVisible();
    const resumedAt = await position();
    expect(resumedAt).toBeGreaterThanOrEqual(paused - 0.05);
    expect(resumedAt).toBeLessThan(paused + 1);
    await listen(page, arena, 'b');
    expect(await heardMs(arena, 'a')).toBe(pausedA);
    await expect(arena.getByTestId('vote-a')).toBeEnabled();
    await panel.screenshot({ path: test.info().outputPath('tournament-listening.png') });
    // A real listener takes a moment; the endpoint flags sub-second decisions.
    await page.waitForTimeout(1200);
    await page.keyboard.press('a');

    const reveal = arena.getByTestId('reveal');
    await expect(reveal).toContainText('You chose A is better');
    const names = [await reveal.getByTestId('reveal-a').textContent(), await reveal.getByTestId('reveal-b').textContent()];
    expect(names.sort()).toEqual(['Equal loudness (baseline)', 'Your console (unity)'].sort());
    const local = panel.getByTestId('local-leaderboard');
    await expect(local.getByTestId('rating-row')).toHaveCount(2);
    for (const row of await local.getByTestId('rating-row').all()) await expect(row).toHaveAttribute('data-votes', '1');
    await expect(local.getByTestId('position-bias')).toHaveAttribute('data-a-wins', '1');

    // The bad token is stated plainly, and nothing was stored.
    await expect(sync.getByTestId('sync-status')).toHaveAttribute('data-state', 'error');
    await expect(sync.getByTestId('sync-error')).toContainText('refused the token (HTTP 401)');
    expect((await endpointBoard(endpoint)).totalVotes).toBe(0);

    await sync.getByLabel('Token (optional)').fill(TOKEN);
    await sync.getByRole('button', { name: 'Save sync settings' }).click();
    await expect(sync.getByTestId('sync-status')).toHaveAttribute('data-pending', '0');
    await expect(sync.getByTestId('sync-status')).toHaveAttribute('data-state', 'idle');
    expect((await endpointBoard(endpoint)).totalVotes).toBe(1);
    await expect(panel.getByTestId('global-leaderboard').getByTestId('rating-row').first()).toHaveAttribute('data-votes', '1');

    // Offline: the next vote waits in IndexedDB, then goes once the browser is back online.
    await context.setOffline(true);
    await page.keyboard.press('n');
    await expect(arena.getByTestId('heard-a')).toHaveAttribute('data-ms', '0');
    await listen(page, arena, 'a');
    await listen(page, arena, 'b');
    await page.waitForTimeout(1200);
    await arena.getByTestId('vote-b').click();
    await expect(reveal).toContainText('You chose B is better');
    await expect(sync.getByTestId('sync-status')).toHaveAttribute('data-state', 'offline');
    await expect(sync.getByTestId('sync-status')).toHaveAttribute('data-pending', '1');
    await page.waitForTimeout(1500);
    expect((await endpointBoard(endpoint)).totalVotes).toBe(1);

    await context.setOffline(false);
    await expect.poll(async () => (await endpointBoard(endpoint)).totalVotes, { timeout: 20_000 }).toBe(2);
    await expect(sync.getByTestId('sync-status')).toHaveAttribute('data-pending', '0');
    await expect(local.getByTestId('rating-row').first()).toHaveAttribute('data-votes', '2');
    await expect(panel.getByTestId('global-leaderboard').getByTestId('rating-row').first()).toHaveAttribute('data-votes', '2');
    await page.screenshot({ path: test.info().outputPath('tournament.png'), fullPage: true });

    // Nothing is lost on reload: the pending pair with its listening time, the votes; nothing is sent twice.
    await page.keyboard.press('n');
    await listen(page, arena, 'a');
    await arena.getByRole('button', { name: 'Pause A/B' }).click();
    const pending = await page.evaluate(() => JSON.parse(JSON.stringify(window.__aimixer!.tournament.pair)) as { a: string; b: string; listenedMs: { a: number } });
    await page.waitForTimeout(300);
    await page.reload();
    await expect(page.getByTestId('track-strip')).toHaveCount(4, { timeout: 60_000 });
    await expect(disclosure).toHaveAttribute('aria-expanded', 'true');
    await panel.getByRole('button', { name: 'Resume tournament' }).click();
    await expect(arena).toBeVisible({ timeout: 90_000 });
    const resumed = await page.evaluate(() => JSON.parse(JSON.stringify(window.__aimixer!.tournament.pair)) as { a: string; b: string; listenedMs: { a: number } });
    expect([resumed.a, resumed.b]).toEqual([pending.a, pending.b]);
    expect(resumed.listenedMs.a).toBeCloseTo(pending.listenedMs.a, 0);
    expect(await heardMs(arena, 'b')).toBe(0);
    await expect(arena.getByTestId('vote-a')).toBeDisabled();
    await expect(local.getByTestId('rating-row').first()).toHaveAttribute('data-votes', '2');
    await sync.locator('summary').click();
    await expect(sync.getByTestId('sync-status')).toHaveAttribute('data-pending', '0');
    await page.waitForTimeout(1000);
    const stored = await endpointBoard(endpoint);
    expect(stored.totalVotes).toBe(2);
    expect(stored.models.map((m) => m.votes)).toEqual([2, 2]);

    // Export writes every field; a broken file is refused by name; re-importing skips both votes.
    const [download] = await Promise.all([page.waitForEvent('download'), sync.getByRole('button', { name: 'Export votes (JSON)' }).click()]);
    const exported = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { votes: Record<string, unknown>[] };
    expect(exported.votes).toHaveLength(2);
    for (const v of exported.votes) {
      expect(Object.keys(v).sort()).toEqual(['a', 'aVersion', 'b', 'bVersion', 'client', 'decideMs', 'id', 'listenMs', 'session', 'ts', 'winner']);
      expect(v.session).toMatch(/^[0-9a-f]{64}$/);
      const heard = v.listenMs as { a: number; b: number };
      expect(Math.min(heard.a, heard.b)).toBeGreaterThanOrEqual(LISTEN_MS);
      expect(v.decideMs as number).toBeGreaterThanOrEqual(1000);
    }
    expect(exported.votes.map((v) => v.winner)).toEqual(['a', 'b']);
    // The client sent each vote in exactly one accepted request (the first one also in refused ones, before the token was fixed).
    for (const v of exported.votes) expect(acceptedPosts(v.id as string)).toBe(1);
    expect(posts.filter((p) => p.status === 401).length).toBeGreaterThanOrEqual(1);
    expect(new Set(exported.votes.map((v) => v.client)).size).toBe(1);

    const picker = sync.getByTestId('votes-import');
    await picker.setInputFiles({ name: 'broken-votes.json', mimeType: 'application/json', buffer: Buffer.from('{"votes": [{"id": 1}]}') });
    await expect(page.getByTestId('notice').filter({ hasText: 'broken-votes.json' })).toContainText('invalid vote at votes.0.id');
    await picker.setInputFiles({ name: 'again.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(exported)) });
    await expect(page.getByTestId('notice').filter({ hasText: 'again.json' })).toContainText('Imported 0 votes; 2 already here');
    await expect(local.getByTestId('rating-row').first()).toHaveAttribute('data-votes', '2');

    expect(consoleErrors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e))).toEqual([]);
  } finally {
    await stopEndpoint(endpoint);
  }
});

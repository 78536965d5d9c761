// The podcast part of `npm run bench` (`npm run bench -- --only podcast` runs it alone): a 90 s reel from a 1-hour
// episode and a 5-minute reel from a 3-hour one, each from opening the file to a mastered, verified MP3, in
// headless Chromium; the browser's peak memory (PSS of all its processes) while it works; and native ffmpeg
// decoding the same 3-hour file to 16 kHz mono, timed in the same run.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openBenchBrowser } from './bench-browser.mjs';
import { conversationScript, renderScript, wavBytes } from '../tests/fixtures/podcast-episode.mjs';

/** Bump to regenerate the cached episodes (the cache key also hashes the generator's source). */
const EPISODE_RECIPE_VERSION = 2;
const BLOCK_SECONDS = 600;
const DISTINCT_BLOCKS = 6;
/** A common podcast encoding: MP3 128 kb/s, 44.1 kHz stereo (the voice centred). */
const EPISODE_BITRATE = '128k';
const PODCAST_DECODER = process.argv.includes('--podcast-decoder') ? process.argv[process.argv.indexOf('--podcast-decoder') + 1] : 'page';
// `--memory-trace` logs the browser's memory once a second beside the desk's stage and the running jobs, to find where a peak comes from.
const MEMORY_TRACE = process.argv.includes('--memory-trace');
export const PODCAST_TARGETS = { reel90From1hMaxS: 20, reel300From3hMaxS: 90, peakMemMaxMb: 1500 };

function ffmpeg(root, args) {
  return execFileSync('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, timeout: 600_000 });
}

/**
 * Synthetic episodes, cached: six distinct 10-minute conversations (espeak-ng voices, laughs, applause, jingles),
 * each encoded once; the 1-hour episode is the six in a row and the 3-hour one the six three times, joined frame
 * for frame without re-encoding.
 */
export async function podcastEpisodes(root, log) {
  const gen = readFileSync(join(root, 'tests/fixtures/podcast-episode.mjs'));
  const key = createHash('sha1').update(gen).update(JSON.stringify({ BLOCK_SECONDS, DISTINCT_BLOCKS, EPISODE_BITRATE })).digest('hex').slice(0, 12);
  // The blocks' own cache key leaves out the recipe version: re-joining them needs no new speech.
  const dir = join(root, '.cache/bench', `podcast-${key}`);
  const ep1h = join(dir, `episode-1h-v${EPISODE_RECIPE_VERSION}.mp3`);
  const ep3h = join(dir, `episode-3h-v${EPISODE_RECIPE_VERSION}.mp3`);
  if (existsSync(ep1h) && existsSync(ep3h)) {
    log(`podcast episodes cached in ${dir}`);
    return { ep1h, ep3h, dir };
  }
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  log(`generating ${DISTINCT_BLOCKS} × ${BLOCK_SECONDS / 60}-minute conversation blocks (espeak-ng) into ${dir}`);
  const blocks = [];
  for (let b = 0; b < DISTINCT_BLOCKS; b++) {
    const mp3 = join(dir, `block-${b}.mp3`);
    if (!existsSync(mp3)) {
      const ep = renderScript(conversationScript(1000 + b, BLOCK_SECONDS), 1000 + b);
      const wav = join(dir, `block-${b}.wav`);
      writeFileSync(wav, wavBytes(ep.mono, 1));
      ffmpeg(root, ['-i', wav, '-ac', '2', '-c:a', 'libmp3lame', '-b:a', EPISODE_BITRATE, `${mp3}.part.mp3`]);
      renameSync(`${mp3}.part.mp3`, mp3);
      rmSync(wav);
    }
    blocks.push(mp3);
  }
  // Blocks run a little under 10 minutes (their scripts are planned by word count): repeat them as often as it
  // takes and cut at exactly 1 and 3 hours, on a frame boundary.
  const joinBlocks = (seconds, out) => {
    const list = join(dir, 'list.txt');
    const files = [];
    for (let i = 0; files.length * (BLOCK_SECONDS - 60) < seconds; i++) files.push(blocks[i % blocks.length]);
    writeFileSync(list, files.map((f) => `file '${f.replace(/'/g, "'\\''")}'`).join('\n'));
    ffmpeg(root, ['-f', 'concat', '-safe', '0', '-i', list, '-t', String(seconds), '-c', 'copy', `${out}.part.mp3`]);
    renameSync(`${out}.part.mp3`, out);
    rmSync(list);
  };
  joinBlocks(3600, ep1h);
  joinBlocks(3 * 3600, ep3h);
  log(`episodes generated in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return { ep1h, ep3h, dir };
}

/**
 * Seconds this machine takes for a fixed scalar loop (2.6e8 multiply-adds) right now, printed beside the timings:
 * other work on this shared machine slows everything down, by several times at its worst.
 */
export function cpuCalibration() {
  const a = new Float32Array(1 << 20).map((_, i) => (i % 97) / 97);
  const t0 = performance.now();
  let s = 0;
  for (let k = 0; k < 250; k++) for (let i = 0; i < a.length; i++) s += a[i] * 0.5;
  return s > 0 ? (performance.now() - t0) / 1000 : NaN;
}

function durationOf(path) {
  return Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', path], { encoding: 'utf8' }).trim());
}

/** Native ffmpeg decoding a file to 16 kHz mono (what the browser's analysis decodes), best of `runs`. */
export function nativeDecode16k(root, path, runs = 1) {
  const times = [];
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    ffmpeg(root, ['-i', path, '-ac', '1', '-ar', '16000', '-f', 's16le', '/dev/null']);
    times.push((performance.now() - t0) / 1000);
  }
  return Math.min(...times);
}

/** Sums the proportional set size (PSS, so shared pages count once) of every process of a Chromium profile. */
function browserPssMb(profile) {
  let kb = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes(profile)) continue;
      const m = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+) kB/m);
      if (m) kb += Number(m[1]);
    } catch {
      // The process ended meanwhile.
    }
  }
  return kb / 1024;
}

class MemorySampler {
  constructor(profile, trace = null) {
    this.profile = profile;
    this.peak = 0;
    this.timer = null;
    /** With `--memory-trace`: (pssMb) => void, given each sample. */
    this.trace = trace;
  }
  start() {
    this.peak = browserPssMb(this.profile);
    // Once a second: reading smaps_rollup of processes with terabytes of reserved address space costs CPU the app needs.
    this.timer = setInterval(() => {
      const mb = browserPssMb(this.profile);
      this.peak = Math.max(this.peak, mb);
      this.trace?.(mb);
    }, 1000);
  }
  stop() {
    clearInterval(this.timer);
    this.peak = Math.max(this.peak, browserPssMb(this.profile));
    return this.peak;
  }
}

/**
 * Opens an episode in the app as a user would (a file picked from disk), waits for the reel, then masters and
 * exports it; every stage timed in the page.
 */
async function reelRun(page, path, { themeId, targetS }, profile, log) {
  await page.evaluate(({ themeId, targetS }) => {
    const p = window.__aimixer.podcast;
    p.themeId = themeId;
    p.targetS = targetS;
    window.__podStart = performance.now();
  }, { themeId, targetS });
  const t0Trace = performance.now();
  const trace = MEMORY_TRACE
    ? (mb) =>
        page
          .evaluate(() => {
            const p = window.__aimixer.podcast;
            const running = window.__aimixer.studio.jobs.filter((j) => j.status === 'running').map((j) => j.label);
            return `${p.busy || '-'} | ${running.join('; ') || '-'}`;
          })
          .then((what) => log(`  memory ${((performance.now() - t0Trace) / 1000).toFixed(0).padStart(4)} s ${mb.toFixed(0).padStart(5)} MB  ${what}`))
          .catch(() => undefined)
    : null;
  const mem = new MemorySampler(profile, trace);
  const baseline = browserPssMb(profile);
  mem.start();
  const t0 = performance.now();
  await page.getByTestId('podcast-file').setInputFiles(path);
  // The reel is ready when it is rendered and nothing runs any more.
  await page.waitForFunction(() => {
    const p = window.__aimixer.podcast;
    return (p.reel && !p.busy) || p.error;
  }, null, { timeout: 600_000, polling: 50 });
  const reel = await page.evaluate(() => {
    const p = window.__aimixer.podcast;
    return { reel_s: (performance.now() - window.__podStart) / 1000, error: p.error, plan: p.plan?.durationS ?? 0, rendered: p.reel?.durationS ?? 0, clips: p.plan?.clips.length ?? 0, message: p.plan?.message ?? null };
  });
  if (reel.error) throw new Error(`the podcast reel failed: ${reel.error}`);
  const peakToReel = mem.peak;
  const exp = await page.evaluate(async () => {
    const p = window.__aimixer.podcast;
    const t0 = performance.now();
    const x = await p.exportReel();
    const export_s = (performance.now() - t0) / 1000;
    if (!x) return { ok: false, error: p.error };
    const blob = await (await fetch(x.url)).blob();
    window.__benchBlob = blob;
    return { ok: true, export_s, lufs: x.lufs, truePeakDb: x.truePeakDb, passes: x.passes, withinSpec: x.withinSpec, bytes: blob.size, timings: { ...p.timings } };
  });
  const wall_s = (performance.now() - t0) / 1000;
  if (!exp.ok) throw new Error(`the podcast export failed: ${exp.error}`);
  // An edit: swap the middle clip for the next candidate, and time the re-render (only the new clip is decoded).
  const edit = await page.evaluate(async () => {
    const p = window.__aimixer.podcast;
    const key = p.plan.clips[Math.floor(p.plan.clips.length / 2)].key;
    p.swapClip(key);
    const t0 = performance.now();
    await p.renderReel();
    return { rerender_s: (performance.now() - t0) / 1000, duration: p.reel?.durationS ?? 0 };
  });
  const peak = mem.stop();
  log(`  reel ${reel.reel_s.toFixed(2)} s (plan ${reel.plan.toFixed(2)} s, rendered ${reel.rendered.toFixed(2)} s, ${reel.clips} clips) + export ${exp.export_s.toFixed(2)} s; re-render after a swap ${edit.rerender_s.toFixed(2)} s; peak browser PSS ${peak.toFixed(0)} MB (${baseline.toFixed(0)} MB before; ${peakToReel.toFixed(0)} MB up to the reel, the rest in mastering and export)`);
  return { ...reel, ...exp, total_s: reel.reel_s + exp.export_s, wall_s, peakMb: peak, peakToReelMb: peakToReel, baselineMb: baseline, rerender_s: edit.rerender_s };
}

/**
 * Runs the podcast benchmark against the app at baseUrl (files reach the page as a user's pick from disk).
 * Returns the figures for bench-results.json.
 */
export async function podcastBench({ root, baseUrl, work, log, readPageBlob, measureFile, cleanups }) {
  const { ep1h, ep3h } = await podcastEpisodes(root, log);
  const calibrationBefore = cpuCalibration();
  log(`CPU calibration: ${calibrationBefore.toFixed(2)} s for 2.6e8 multiply-adds (lower is a less loaded machine)`);
  const d1 = durationOf(ep1h);
  const d3 = durationOf(ep3h);
  log(`native ffmpeg: decode the 3-hour episode (${(d3 / 3600).toFixed(2)} h) to 16 kHz mono`);
  const nativeBefore = nativeDecode16k(root, ep3h);
  log(`  ${nativeBefore.toFixed(2)} s`);

  // Each episode gets a fresh browser, so one run's leftovers (grown WASM heaps, caches) do not count in the next.
  const pageErrors = [];
  const openApp = async () => {
    const { context, page, profile } = await openBenchBrowser('aimixer-bench-podcast-', cleanups, pageErrors);
    await page.goto(`${baseUrl}/#podcast`);
    await page.getByTestId('podcast').waitFor({ timeout: 60_000 });
    await page.evaluate(() => window.__aimixer.offlineReady);
    // Let the demo session the studio opens on settle first: it is not part of the podcast's work.
    await page.waitForFunction(() => !window.__aimixer.studio.jobs.some((j) => j.status === 'queued' || j.status === 'running'), null, { timeout: 120_000, polling: 250 });
    // `--podcast-decoder ffmpeg` times the analysis with ffmpeg.wasm decoding every slice, for comparison.
    if (PODCAST_DECODER === 'ffmpeg') await page.evaluate(() => (window.__aimixer.podcast.pageDecode = false));
    return { context, page, profile };
  };

  const runs = {};
  for (const [key, path, opts, dur] of [
    ['1h', ep1h, { themeId: 'best-of', targetS: 90 }, d1],
    ['3h', ep3h, { themeId: 'best-of', targetS: 300 }, d3],
  ]) {
    log(`podcast: ${opts.targetS} s ${opts.themeId} reel from the ${key} episode (${(dur / 60).toFixed(1)} min, ${(statSync(path).size / 1e6).toFixed(0)} MB MP3)`);
    const { context, page, profile } = await openApp();
    const r = await reelRun(page, path, opts, profile, log);
    const file = join(work, `podcast-${key}.mp3`);
    writeFileSync(file, await readPageBlob(page, r.bytes));
    r.file = measureFile(file, work);
    r.episodeS = dur;
    log(`  exported MP3: app ${r.lufs.toFixed(2)} LUFS ${r.truePeakDb.toFixed(2)} dBTP (${r.passes} pass); native ebur128 ${r.file.lufs.toFixed(2)} LUFS ${r.file.truePeakDb.toFixed(2)} dBTP`);
    log(`  stages: ${Object.entries(r.timings).map(([k, v]) => `${k} ${Number(v).toFixed(2)}`).join(', ')}`);
    runs[key] = r;
    await context.close();
  }
  log('native ffmpeg: decode the 3-hour episode again (after the browser)');
  const nativeAfter = nativeDecode16k(root, ep3h);
  const native3h = Math.min(nativeBefore, nativeAfter);
  log(`  ${nativeAfter.toFixed(2)} s`);
  const calibrationAfter = cpuCalibration();
  log(`CPU calibration after: ${calibrationAfter.toFixed(2)} s`);
  if (pageErrors.length) log(`podcast page errors:\n  ${pageErrors.join('\n  ')}`);

  const r1 = runs['1h'];
  const r3 = runs['3h'];
  const analysis3 = (r3.timings.read_s ?? 0) + (r3.timings.analyse_s ?? 0) + (r3.timings.assemble_s ?? 0);
  const fig = {
    'podcast.decoder': PODCAST_DECODER === 'ffmpeg' ? 'ffmpeg.wasm' : 'page decodeAudioData (MP3 slices)',
    'podcast.episode_format': `synthetic conversation (espeak-ng), MP3 ${EPISODE_BITRATE} 44.1 kHz stereo`,
    'podcast.cpu_calibration_before_s': round(calibrationBefore),
    'podcast.cpu_calibration_after_s': round(calibrationAfter),
    'podcast.reel90_from_1h_s': round(r1.total_s),
    'podcast.reel300_from_3h_s': round(r3.total_s),
    'podcast.peak_mem_mb': round(Math.max(r1.peakMb, r3.peakMb), 0),
    'podcast.peak_mem_3h_mb': round(r3.peakMb, 0),
    'podcast.baseline_mem_mb': round(r3.baselineMb, 0),
    'native.decode_3h_16k_s': round(native3h),
    'ratio.podcast_analysis_3h_over_native_decode': round(analysis3 / native3h),
    'ratio.podcast_reel300_over_native_decode': round(r3.total_s / native3h),
    'target.podcast_reel90_from_1h_max_s': PODCAST_TARGETS.reel90From1hMaxS,
    'target.podcast_reel300_from_3h_max_s': PODCAST_TARGETS.reel300From3hMaxS,
    'target.podcast_peak_mem_max_mb': PODCAST_TARGETS.peakMemMaxMb,
    'target.podcast_reel90_from_1h_met': r1.total_s <= PODCAST_TARGETS.reel90From1hMaxS,
    'target.podcast_reel300_from_3h_met': r3.total_s <= PODCAST_TARGETS.reel300From3hMaxS,
    'target.podcast_peak_mem_met': Math.max(r1.peakMb, r3.peakMb) <= PODCAST_TARGETS.peakMemMaxMb,
  };
  for (const [key, r] of Object.entries(runs)) {
    for (const [stage, v] of Object.entries(r.timings)) fig[`podcast.${key}.${stage}`] = round(v);
    fig[`podcast.${key}.reel_s`] = round(r.reel_s);
    fig[`podcast.${key}.export_s`] = round(r.export_s);
    fig[`podcast.${key}.reel_duration_s`] = round(r.rendered);
    fig[`podcast.${key}.lufs`] = round(r.file.lufs, 2);
    fig[`podcast.${key}.true_peak_db`] = round(r.file.truePeakDb, 2);
    fig[`podcast.${key}.passes`] = r.passes;
    fig[`podcast.${key}.peak_mem_mb`] = round(r.peakMb, 0);
    fig[`podcast.${key}.peak_mem_analysis_mb`] = round(r.peakToReelMb, 0);
    fig[`podcast.${key}.baseline_mem_mb`] = round(r.baselineMb, 0);
    fig[`podcast.${key}.rerender_after_edit_s`] = round(r.rerender_s);
  }
  printPodcastReport(runs, native3h, analysis3);
  return fig;
}

function round(x, digits = 3) {
  return Number.isFinite(x) ? Number(x.toFixed(digits)) : x;
}

function printPodcastReport(runs, native3h, analysis3) {
  const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : '—');
  const lines = ['', '| podcast | 90 s reel from 1 h | 5 min reel from 3 h |', '|---|---:|---:|'];
  const stages = ['read_s', 'analyse_s', 'assemble_s', 'select_s', 'render_s', 'master_s', 'encode_s', 'verify_s'];
  for (const s of stages) lines.push(`| ${s.replace('_s', '')} | ${f(runs['1h'].timings[s])} | ${f(runs['3h'].timings[s])} |`);
  lines.push(`| **open → reel** | ${f(runs['1h'].reel_s)} | ${f(runs['3h'].reel_s)} |`);
  lines.push(`| **open → mastered, verified MP3** | ${f(runs['1h'].total_s)} (target ≤ ${PODCAST_TARGETS.reel90From1hMaxS}) | ${f(runs['3h'].total_s)} (target ≤ ${PODCAST_TARGETS.reel300From3hMaxS}) |`);
  lines.push(`| reel length | ${f(runs['1h'].rendered)} s | ${f(runs['3h'].rendered)} s |`);
  lines.push(`| re-render after swapping a clip | ${f(runs['1h'].rerender_s)} | ${f(runs['3h'].rerender_s)} (target < 2) |`);
  lines.push(`| MP3 (native ebur128) | ${f(runs['1h'].file.lufs)} LUFS, ${f(runs['1h'].file.truePeakDb)} dBTP | ${f(runs['3h'].file.lufs)} LUFS, ${f(runs['3h'].file.truePeakDb)} dBTP |`);
  lines.push(`| peak browser memory (PSS, all processes) | ${runs['1h'].peakMb.toFixed(0)} MB | ${runs['3h'].peakMb.toFixed(0)} MB (target ≤ ${PODCAST_TARGETS.peakMemMaxMb}) |`);
  lines.push(`| … of it up to the reel (analysis) | ${runs['1h'].peakToReelMb.toFixed(0)} MB | ${runs['3h'].peakToReelMb.toFixed(0)} MB |`);
  lines.push(`| … before the run (app idle) | ${runs['1h'].baselineMb.toFixed(0)} MB | ${runs['3h'].baselineMb.toFixed(0)} MB |`);
  lines.push('');
  lines.push(`native ffmpeg decoding the 3-hour episode to 16 kHz mono: ${f(native3h)} s; browser analysis (read + analyse + segments) / native decode: ${f(analysis3 / native3h)}; whole 5-minute reel / native decode: ${f(runs['3h'].total_s / native3h)}`);
  lines.push('');
  console.log(lines.join('\n'));
}

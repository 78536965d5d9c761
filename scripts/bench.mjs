// `npm run bench`: the real app in headless Debian Chromium against native ffmpeg, timed in the same run on this machine.
// A benchmark, never a test: it exits non-zero only when something failed to run, not when a target is missed.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { openBenchBrowser } from './bench-browser.mjs';
import { podcastBench } from './bench-podcast.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RATE = 44100;
const SECONDS = 180;
const STEM_COUNT = 8;
const TARGET_LUFS = -14;
const CEILING_DBTP = -1;
const MP3_KBPS = '320k';
// BENCH_KEEP=1 keeps the exported and native files (and prints where) for a closer look.
const KEEP_OUTPUTS = process.env.BENCH_KEEP === '1';
// The targets on this 2-core machine.
const MAX_TOTAL_OVER_LAME = 1.5;
const MAX_TOTAL_OVER_PIPELINE = 0.6;
/** Timed imports and warm MP3 exports in the browser; the medians are the figures, as native (b)'s median of three is. */
const BROWSER_RUNS = 3;
// `--only mix` or `--only podcast` runs one part; both run by default.
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
if (ONLY && !['mix', 'podcast'].includes(ONLY)) throw new Error(`--only takes mix or podcast, not ${ONLY}`);
const PARTS = { mix: !ONLY || ONLY === 'mix', podcast: !ONLY || ONLY === 'podcast' };
// DIST_DIR serves another build (e.g. one made beside dist/ while another run uses it).
const DIST = process.env.DIST_DIR ?? 'dist';
// The mix part must end well inside 10 minutes, whatever hangs; the podcast part (a 3-hour episode, first
// generated and then cached) gets its own allowance on top.
const DEADLINE_MS = (PARTS.mix ? 9.5 : 0) * 60_000 + (PARTS.podcast ? 15 : 0) * 60_000;
const RESULTS = join(ROOT, 'bench-results.json');
const STEMS_URL_DIR = 'bench-stems';

// ---------------------------------------------------------------------------------------------
// Stems: eight 3-minute stereo parts of one 120 BPM song in A minor, written by aevalsrc.
// Bump STEM_RECIPE_VERSION (or edit a recipe: the cache key hashes them) to regenerate.
const STEM_RECIPE_VERSION = 1;
const T64 = 'mod(t,64)';
// 64-s arrangement: intro 0–16, groove 16–32, breakdown 32–40, full 40–64.
const GROOVE = `gte(${T64},16)*(1-gte(${T64},32)*lt(${T64},40))`;
const FROM_BREAKDOWN = `gte(${T64},32)`;
const NOT_BREAKDOWN = `(1-gte(${T64},32)*lt(${T64},40))`;
const FADE = `min(1,t/4)*min(1,(${SECONDS}-t)/6)`;
// Am F C G, one chord per 2-s bar.
const ROOT_HZ = 'if(lt(mod(t,8),2),110,if(lt(mod(t,8),4),87.307,if(lt(mod(t,8),6),130.813,97.999)))';
const THIRD = 'if(lt(mod(t,8),2),1.18921,1.25992)';
const PENTA = (k) => `if(eq(${k},0),0,if(eq(${k},1),3,if(eq(${k},2),5,if(eq(${k},3),7,10))))`;

const kick = `0.8*sin(2*PI*(45*t+1.5*(1-exp(-20*mod(t,0.5)))))*exp(-7*mod(t,0.5))*${GROOVE}*${FADE}`;
const snare = (seed, g) =>
  `${g}*(0.3*(2*random(${seed})-1)*exp(-20*mod(t-0.5,1))+0.25*sin(2*PI*185*t)*exp(-30*mod(t-0.5,1)))*${GROOVE}*${FADE}`;
const hats = (seed, g) =>
  `${g}*0.2*(2*random(${seed})-1)*exp(-60*mod(t,0.25))*(0.5+0.5*lt(mod(t,0.5),0.25))*(0.7+0.3*sin(2*PI*t/7))*(0.45+0.55*gte(${T64},16))*${FADE}`;
const bass = `0.42*(sin(2*PI*${ROOT_HZ}/2*t)+0.35*sin(2*PI*${ROOT_HZ}*t))*(1-exp(-300*mod(t,0.25)))*exp(-4*mod(t,0.25))*${GROOVE}*${FADE}`;
const pad = (detune) =>
  `0.11*(sin(2*PI*2*${detune}*${ROOT_HZ}*t)+sin(2*PI*2*${detune}*${ROOT_HZ}*${THIRD}*t)+sin(2*PI*3*${detune}*${ROOT_HZ}*t))*(0.55+0.45*sin(2*PI*t/16))*${FADE}`;
const leadHz = `440*pow(2,${PENTA('mod(floor(t*2)*3+floor(t/8),5)')}/12)`;
const lead = (g) =>
  `${g}*0.22*(sin(2*PI*${leadHz}*t+0.3*sin(2*PI*5.5*t))+0.3*sin(4*PI*${leadHz}*t))*(1-exp(-150*mod(t,0.5)))*exp(-2.5*mod(t,0.5))*${FROM_BREAKDOWN}*${FADE}`;
const arpHz = `4*${ROOT_HZ}*if(eq(mod(floor(t*8),4),0),1,if(eq(mod(floor(t*8),4),1),${THIRD},if(eq(mod(floor(t*8),4),2),1.5,2)))`;
const arp = (side) =>
  `0.16*(0.4+0.6*eq(mod(floor(t*8),2),${side}))*(sin(2*PI*${arpHz}*t)+0.3*sin(4*PI*${arpHz}*t)+0.15*sin(6*PI*${arpHz}*t))*(1-exp(-400*mod(t,0.125)))*exp(-18*mod(t,0.125))*${NOT_BREAKDOWN}*${FADE}`;
const ambience = (seed) =>
  `(0.06*(2*random(${seed})-1)*(0.3+0.7*pow(mod(t,16)/16,2))+0.1*sin(2*PI*41*t)*(0.5+0.5*sin(2*PI*t/11)))*${FADE}`;

const STEMS = [
  { name: 'kick', left: kick, right: kick },
  { name: 'snare', left: snare(0, 1), right: snare(1, 0.9) },
  { name: 'hats', left: hats(0, 0.55), right: hats(1, 1) },
  { name: 'bass', left: bass, right: bass },
  { name: 'pad', left: pad(1), right: pad(1.004) },
  { name: 'lead', left: lead(0.9), right: lead(0.6) },
  { name: 'arp', left: arp(0), right: arp(1) },
  { name: 'ambience', left: ambience(0), right: ambience(1) },
];

// ---------------------------------------------------------------------------------------------
const cleanups = [];
let cleaning = null;

function cleanup() {
  cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) {
      try {
        // Bounded: one stuck step (a browser that won't close) must not keep the others from running.
        await withTimeout(Promise.resolve().then(fn), 15_000, 'a cleanup step');
      } catch (e) {
        console.error(`bench: cleanup: ${e instanceof Error ? e.message : e}`);
      }
    }
  })();
  return cleaning;
}

function log(msg) {
  console.log(`bench: ${msg}`);
}

function ffmpeg(args, opts = {}) {
  return execFileSync('ffmpeg', ['-hide_banner', '-nostdin', '-y', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024, timeout: 180_000, ...opts });
}

function timed(fn) {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function round(x, digits = 3) {
  return Number.isFinite(x) ? Number(x.toFixed(digits)) : x;
}

/** Integrated loudness and true peak of a file per native ffmpeg's ebur128, at full metadata precision. */
function measureFile(path, work) {
  const meta = join(work, `meta-${createHash('sha1').update(path).digest('hex').slice(0, 8)}.txt`);
  ffmpeg(['-nostats', '-i', path, '-af', `ebur128=peak=true:metadata=1,ametadata=mode=print:file=${meta.replace(/([\\:'])/g, '\\$1')}`, '-f', 'null', '-']);
  const text = readFileSync(meta, 'utf8');
  rmSync(meta, { force: true });
  let lufs = NaN;
  let peak = 0;
  for (const m of text.matchAll(/lavfi\.r128\.(I|true_peak)=(-?[\d.]+|-?inf|nan)/g)) {
    const v = Number(m[2]);
    if (m[1] === 'I') lufs = v;
    else if (v > peak) peak = v;
  }
  if (!Number.isFinite(lufs)) throw new Error(`ebur128 gave no integrated loudness for ${path}`);
  return { lufs, truePeakDb: peak > 0 ? 20 * Math.log10(peak) : -Infinity };
}

function freePort(from) {
  return new Promise((res, rej) => {
    const tryPort = (p) => {
      if (p > from + 50) return rej(new Error(`no free port in ${from}–${from + 50}`));
      const srv = createServer();
      srv.once('error', () => tryPort(p + 1));
      srv.listen(p, '127.0.0.1', () => srv.close(() => res(p)));
    };
    tryPort(from);
  });
}

async function waitForHttp(url, ms) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`${url} did not answer within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`${what} took longer than ${ms / 1000} s`)), ms))),
  ]);
}

// ---------------------------------------------------------------------------------------------
function ensureTools() {
  execFileSync('bash', [join(ROOT, 'scripts/ensure-chromium.sh')], { cwd: ROOT, stdio: 'inherit' });
  if (!existsSync(join(ROOT, DIST, 'index.html'))) {
    log(`${DIST}/ is missing: building it`);
    if (DIST === 'dist') execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    else {
      execFileSync('npx', ['vite', 'build', '--outDir', DIST], { cwd: ROOT, stdio: 'inherit' });
      execFileSync('node', ['scripts/build-sw.mjs'], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, DIST_DIR: DIST } });
    }
  }
}

async function generateStems() {
  const key = createHash('sha1')
    .update(JSON.stringify({ v: STEM_RECIPE_VERSION, RATE, SECONDS, STEMS }))
    .digest('hex')
    .slice(0, 12);
  const dir = join(ROOT, '.cache/bench', `stems-v${STEM_RECIPE_VERSION}-${key}`);
  const files = STEMS.map((s, i) => join(dir, `${i + 1}-${s.name}.wav`));
  if (files.every((f) => existsSync(f))) {
    log(`stems cached in ${dir}`);
    return files;
  }
  mkdirSync(dir, { recursive: true });
  log(`generating ${STEM_COUNT} stems (${SECONDS} s, ${RATE} Hz, stereo, 16-bit) into ${dir}`);
  const t0 = performance.now();
  // Two at a time: one per core.
  const one = (s, f) =>
    new Promise((res, rej) => {
      const tmp = `${f}.part.wav`;
      const p = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `aevalsrc='${s.left}|${s.right}':s=${RATE}:d=${SECONDS}:c=stereo`, '-c:a', 'pcm_s16le', tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('error', rej);
      p.on('close', (code) => {
        if (code !== 0) return rej(new Error(`ffmpeg could not render stem ${s.name}: ${err.trim()}`));
        renameSync(tmp, f);
        res();
      });
    });
  for (let i = 0; i < STEMS.length; i += 2) await Promise.all(STEMS.slice(i, i + 2).map((s, k) => one(s, files[i + k])));
  log(`stems generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return files;
}

/**
 * The native reference. Runs come in rounds, one before and one after the browser, so that load from
 * other work on this shared machine falls on both sides of the comparison alike.
 */
class NativeReference {
  constructor(stems, work) {
    const limit = Math.pow(10, CEILING_DBTP / 20).toFixed(6);
    // alimiter's auto level (on by default in 5.1) would lift the limited signal back to 0 dBFS: turn it off.
    this.chain = `amix=inputs=${stems.length}:normalize=0,loudnorm=I=${TARGET_LUFS}:TP=${CEILING_DBTP}:LRA=11,alimiter=limit=${limit}:level=0,aresample=${RATE}`;
    this.inputs = stems.flatMap((f) => ['-i', f]);
    this.work = work;
    this.pipelineOut = join(work, 'native-pipeline.mp3');
    this.mixWav = join(work, 'native-mix.wav');
    this.lameOut = join(work, 'native-lame.mp3');
    this.pipelineRuns = [];
    this.lameRuns = [];
    // (b) encodes a finished mix: the same master as (a), kept as 16-bit WAV (untimed). The s16 WAV
    // muxer can't pick a layout from amix's guessed one by itself, hence -ac 2.
    ffmpeg([...this.inputs, '-filter_complex', this.chain, '-ac', '2', '-c:a', 'pcm_s16le', this.mixWav]);
  }

  round(pipelineRuns, lameRuns) {
    for (let k = 0; k < pipelineRuns; k++) {
      const s = timed(() => ffmpeg([...this.inputs, '-filter_complex', this.chain, '-c:a', 'libmp3lame', '-b:a', MP3_KBPS, this.pipelineOut]));
      this.pipelineRuns.push(s);
      log(`native (a) run ${this.pipelineRuns.length}: ${s.toFixed(2)} s`);
    }
    for (let k = 0; k < lameRuns; k++) {
      const s = timed(() => ffmpeg(['-i', this.mixWav, '-c:a', 'libmp3lame', '-b:a', MP3_KBPS, this.lameOut]));
      this.lameRuns.push(s);
      log(`native (b) run ${this.lameRuns.length}: ${s.toFixed(2)} s`);
    }
  }

  result() {
    return {
      chain: this.chain,
      pipelineRuns: this.pipelineRuns,
      lameRuns: this.lameRuns,
      pipeline_s: median(this.pipelineRuns),
      lame_s: median(this.lameRuns),
      pipelineFile: measureFile(this.pipelineOut, this.work),
      lameFile: measureFile(this.lameOut, this.work),
    };
  }
}

// ---------------------------------------------------------------------------------------------
async function startPreview() {
  const port = await freePort(4180);
  const vite = join(ROOT, 'node_modules/.bin/vite');
  const server = spawn(vite, ['preview', '--outDir', DIST, '--port', String(port), '--strictPort', '--host', '127.0.0.1'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  server.stdout.on('data', (d) => (out += d));
  server.stderr.on('data', (d) => (out += d));
  cleanups.push(
    () =>
      new Promise((res) => {
        if (server.exitCode !== null || server.signalCode !== null) return res();
        server.once('close', () => res());
        // Its own process group: the npx-less vite and anything it started.
        try {
          process.kill(-server.pid, 'SIGTERM');
        } catch {
          res();
        }
        setTimeout(() => {
          try {
            process.kill(-server.pid, 'SIGKILL');
          } catch {
            // already gone
          }
          res();
        }, 3000).unref();
      }),
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/`, 30_000);
  } catch (e) {
    throw new Error(`vite preview did not start: ${e.message}\n${out}`);
  }
  return url;
}

/** Reads a Blob the page holds on window.__benchBlob, in base64 chunks (a plain array would be far too slow). */
async function fetchPageBlob(page, size) {
  const CHUNK = 4 * 1024 * 1024;
  const parts = [];
  for (let a = 0; a < size; a += CHUNK) {
    const b64 = await page.evaluate(
      ([from, to]) =>
        new Promise((res, rej) => {
          const r = new FileReader();
          r.onload = () => res(String(r.result).slice(String(r.result).indexOf(',') + 1));
          r.onerror = () => rej(r.error);
          r.readAsDataURL(window.__benchBlob.slice(from, to));
        }),
      [a, Math.min(size, a + CHUNK)],
    );
    parts.push(Buffer.from(b64, 'base64'));
  }
  const buf = Buffer.concat(parts);
  if (buf.length !== size) throw new Error(`read ${buf.length} of ${size} bytes of the export`);
  return buf;
}

async function browserRun(baseUrl, stemNames, work) {
  const pageErrors = [];
  const { context, page } = await openBenchBrowser('aimixer-bench-profile-', cleanups, pageErrors);
  const userAgent = await page.evaluate(() => navigator.userAgent).catch(() => '');

  await page.goto(`${baseUrl}/`);
  await page.locator('[data-testid=track-strip]').nth(3).waitFor({ timeout: 90_000 });
  await withTimeout(
    page.evaluate(() => window.__aimixer.offlineReady),
    90_000,
    'offline precache',
  );
  log('app loaded with the demo session; offline precache complete');

  // Helpers the timed steps share; installed once, untimed.
  await page.evaluate(() => {
    const app = window.__aimixer;
    const busy = () => app.studio.jobs.some((j) => j.status === 'queued' || j.status === 'running');
    window.__benchIdle = async () => {
      // The waveform render is debounced by 700 ms after an edit: let it start, then finish.
      await new Promise((r) => setTimeout(r, 1000));
      while (busy()) await new Promise((r) => setTimeout(r, 100));
    };
    window.__benchProblems = () => [
      ...app.studio.notices.filter((n) => n.level === 'error').map((n) => `notice: ${n.subject ?? ''}: ${n.message}`),
      ...app.studio.jobs.filter((j) => j.status === 'failed').map((j) => `job "${j.label}" failed: ${j.error ?? ''}`),
    ];
  });
  await withTimeout(page.evaluate(() => window.__benchIdle()), 60_000, 'the demo session settling');

  // Like native (b), the import is timed BROWSER_RUNS times (each into a new session; the one before is deleted) and
  // the median is the figure: one run on a shared host is too noisy to hold against a median.
  const imports = [];
  for (let run = 1; run <= BROWSER_RUNS; run++) {
    const imported = await withTimeout(
      page.evaluate(
        async ({ dir, names, run }) => {
          const { studio } = window.__aimixer;
          const files = await Promise.all(
            names.map(async (n) => {
              const r = await fetch(`/${dir}/${n}`);
              if (!r.ok) throw new Error(`GET /${dir}/${n}: HTTP ${r.status}`);
              return new File([await r.blob()], n, { type: 'audio/wav' });
            }),
          );
          const previous = run > 1 ? studio.session?.id : undefined;
          await studio.newSession(`Bench ${run}`);
          if (previous) await studio.deleteStoredSession(previous);
          const t0 = performance.now();
          await studio.importFiles(files);
          const decode_s = (performance.now() - t0) / 1000;
          return { decode_s, tracks: studio.session?.tracks.length ?? 0, problems: window.__benchProblems() };
        },
        { dir: STEMS_URL_DIR, names: stemNames, run },
      ),
      180_000,
      'import of the stems',
    );
    if (imported.tracks !== stemNames.length) throw new Error(`imported ${imported.tracks} of ${stemNames.length} stems:\n${imported.problems.join('\n')}`);
    log(`import/decode of ${stemNames.length} stems, run ${run}: ${imported.decode_s.toFixed(2)} s`);
    imports.push(imported.decode_s);
    await withTimeout(page.evaluate(() => window.__benchIdle()), 60_000, 'the waveform render after import');
  }
  const decode_s = median(imports);

  const standalone = await withTimeout(
    page.evaluate(async () => {
      const t0 = performance.now();
      const r = await window.__aimixer.studio.renderMix();
      return { render_s: (performance.now() - t0) / 1000, peakDb: r.peakDb, rmsDb: r.rmsDb, frames: r.left.length };
    }),
    120_000,
    'renderMix',
  );
  log(`standalone renderMix: ${standalone.render_s.toFixed(2)} s (${standalone.frames} frames, peak ${standalone.peakDb.toFixed(1)} dBFS)`);

  // Auto-mix: analysis of the 8 stems (two workers), then the int8 model; the console is restored after.
  const automix = await withTimeout(
    page.evaluate(async () => {
      const { automix: desk } = window.__aimixer;
      desk.modelId = 'mixnet-int8';
      const cold = (await desk.run()) ? { ...desk.lastTimings, ep: desk.runtime?.ep } : null;
      desk.undo();
      // Features are cached now: this run is the model alone, its weights and session warm.
      const warm = (await desk.run()) ? { ...desk.lastTimings, ep: desk.runtime?.ep } : null;
      desk.undo();
      return { cold, warm, problems: window.__benchProblems() };
    }),
    180_000,
    'auto-mix',
  );
  if (!automix.cold || !automix.warm) throw new Error(`auto-mix failed:\n${automix.problems.join('\n')}`);
  log(
    `auto-mix of ${stemNames.length} stems: analysis ${automix.cold.analysis_s.toFixed(2)} s; model ${automix.cold.model_s.toFixed(3)} s cold, ` +
      `${automix.warm.model_s.toFixed(3)} s warm (inference ${(automix.warm.inference_s * 1000).toFixed(1)} ms on ${automix.warm.ep})`,
  );

  const exportOnce = async (format) => {
    await withTimeout(page.evaluate(() => window.__benchIdle()), 60_000, 'idle before export');
    const r = await withTimeout(
      page.evaluate(async (fmt) => {
        const { desk } = window.__aimixer;
        desk.setPreset('streaming');
        desk.format = fmt;
        const t0 = performance.now();
        const rec = await desk.exportMaster();
        const wall_s = (performance.now() - t0) / 1000;
        if (!rec) return { ok: false, problems: window.__benchProblems() };
        window.__benchBlob = rec.blob;
        return {
          ok: true,
          wall_s,
          bytes: rec.blob.size,
          timings: { ...desk.lastTimings },
          check: { ...desk.fileCheck },
          settings: { targetLufs: desk.settings.targetLufs, ceilingDbtp: desk.settings.ceilingDbtp },
        };
      }, format),
      240_000,
      `export ${format}`,
    );
    if (!r.ok) throw new Error(`exportMaster(${format}) returned null:\n${r.problems.join('\n')}`);
    const file = join(work, `app-export.${format}`);
    writeFileSync(file, await fetchPageBlob(page, r.bytes));
    await page.evaluate(() => (window.__benchBlob = null));
    const measured = measureFile(file, work);
    const t = r.timings;
    log(
      `export ${format}: wall ${r.wall_s.toFixed(2)} s (render ${t.render_s.toFixed(2)}, master ${t.master_s.toFixed(2)}, encode ${t.encode_s.toFixed(2)}, verify ${t.verify_s.toFixed(2)}), ` +
        `${r.check.attempts} pass(es); app: ${r.check.lufs.toFixed(2)} LUFS ${r.check.truePeakDb.toFixed(2)} dBTP; native ebur128: ${measured.lufs.toFixed(2)} LUFS ${measured.truePeakDb.toFixed(2)} dBTP`,
    );
    return { ...r, measured };
  };

  const mp3Cold = await exportOnce('mp3');
  // The warm export is timed BROWSER_RUNS times too; the run with the median render + master + encode is the figure.
  const mp3Runs = [];
  for (let run = 0; run < BROWSER_RUNS; run++) mp3Runs.push(await exportOnce('mp3'));
  const exportTime = (e) => e.timings.render_s + e.timings.master_s + e.timings.encode_s;
  const mp3 = [...mp3Runs].sort((x, y) => exportTime(x) - exportTime(y))[mp3Runs.length >> 1];
  const wav = await exportOnce('wav');
  const flac = await exportOnce('flac');
  const warnings = await page.evaluate(() => window.__aimixer.studio.notices.filter((n) => n.level === 'warning').map((n) => `${n.subject ?? ''}: ${n.message}`));
  return { userAgent, decode_s, imports, standalone, automix, mp3Cold, mp3, mp3Runs: mp3Runs.map(exportTime), wav, flac, warnings, pageErrors };
}

// ---------------------------------------------------------------------------------------------
function fmt(x, d = 2) {
  return Number.isFinite(x) ? x.toFixed(d) : '—';
}

function printReport(r) {
  const { b, native } = r;
  const rows = [
    ['import/decode 8 stems', b.decode_s, null],
    ['render the mix', b.mp3.timings.render_s, null],
    ['master', b.mp3.timings.master_s, null],
    ['encode MP3 320k', b.mp3.timings.encode_s, native.lame_s],
    ['total (4 stages)', r.total_s, null],
    ['verify the file (decode + meter)', b.mp3.timings.verify_s, null],
    ['total with verify', r.total_with_verify_s, null],
    ['(a) amix+loudnorm+alimiter+lame', null, native.pipeline_s],
    ['(b) lame 320k of a finished mix', null, native.lame_s],
  ];
  const lines = [];
  lines.push('');
  lines.push(`| stage | browser s | native s |`);
  lines.push(`|---|---:|---:|`);
  for (const [name, bs, ns] of rows) lines.push(`| ${name} | ${bs === null ? '' : fmt(bs)} | ${ns === null ? '' : fmt(ns)} |`);
  lines.push('');
  lines.push(`Browser runs (the medians are in the table): imports ${b.imports.map((x) => fmt(x)).join(', ')} s; warm MP3 exports (render + master + encode) ${b.mp3Runs.map((x) => fmt(x)).join(', ')} s.`);
  lines.push(`MP3 export, cold (first export: workers and ffmpeg.wasm start) → warm: render ${fmt(b.mp3Cold.timings.render_s)} → ${fmt(b.mp3.timings.render_s)}, master ${fmt(b.mp3Cold.timings.master_s)} → ${fmt(b.mp3.timings.master_s)}, encode ${fmt(b.mp3Cold.timings.encode_s)} → ${fmt(b.mp3.timings.encode_s)}, verify ${fmt(b.mp3Cold.timings.verify_s)} → ${fmt(b.mp3.timings.verify_s)} s; passes ${b.mp3Cold.check.attempts} → ${b.mp3.check.attempts}`);
  lines.push(`standalone studio.renderMix(): ${fmt(b.standalone.render_s)} s`);
  const am = b.automix;
  lines.push(
    `auto-mix, 8 stems: analysis ${fmt(am.cold.analysis_s)} s + model call ${fmt(am.warm.model_s, 3)} s (inference ${fmt(am.warm.inference_s * 1000, 1)} ms on ${am.warm.ep}; first call with weights and self-check ${fmt(am.cold.model_s)} s); ` +
      `targets: analysis + inference ≤ 1.5 s: ${am.cold.analysis_s + am.warm.inference_s <= 1.5 ? 'PASS' : 'MISS'}, inference ≤ 50 ms: ${am.warm.inference_s <= 0.05 ? 'PASS' : 'MISS'}`,
  );
  lines.push(`native runs (before the browser, then after): (a) ${native.pipelineRuns.map((x) => fmt(x)).join(', ')} s; (b) ${native.lameRuns.map((x) => fmt(x)).join(', ')} s (median reported)`);
  lines.push('');
  const mark = (ok) => (ok ? 'PASS' : 'MISS');
  lines.push(`| ratio | value | target |`);
  lines.push(`|---|---:|---|`);
  lines.push(`| browser total / (a) native pipeline | ${fmt(r.ratio.total_over_native_pipeline)} | ≤ ${MAX_TOTAL_OVER_PIPELINE}: ${mark(r.ratio.total_over_native_pipeline <= MAX_TOTAL_OVER_PIPELINE)} |`);
  lines.push(`| browser master+export / (a) native pipeline | ${fmt(r.ratio.master_export_over_native_pipeline)} | — |`);
  lines.push(`| browser total / (b) native lame | ${fmt(r.ratio.total_over_lame)} | ≤ ${MAX_TOTAL_OVER_LAME}: ${mark(r.ratio.total_over_lame <= MAX_TOTAL_OVER_LAME)} |`);
  lines.push('');
  lines.push(`Loudness and true peak of each output (target ${TARGET_LUFS} LUFS ±0.5, ceiling ${CEILING_DBTP} dBTP), measured by native ffmpeg ebur128 on the file; the app's own check in brackets:`);
  lines.push('');
  lines.push(`| output | LUFS | dBTP | app LUFS | app dBTP | passes | in spec |`);
  lines.push(`|---|---:|---:|---:|---:|---:|---|`);
  const inSpec = (m) => mark(Math.abs(m.lufs - TARGET_LUFS) <= 0.5 && m.truePeakDb <= CEILING_DBTP);
  for (const [name, e] of [
    ['browser MP3 320k', b.mp3],
    ['browser WAV 24-bit', b.wav],
    ['browser FLAC', b.flac],
  ])
    lines.push(`| ${name} | ${fmt(e.measured.lufs)} | ${fmt(e.measured.truePeakDb)} | ${fmt(e.check.lufs)} | ${fmt(e.check.truePeakDb)} | ${e.check.attempts} | ${inSpec(e.measured)} |`);
  lines.push(`| native (a) MP3 | ${fmt(native.pipelineFile.lufs)} | ${fmt(native.pipelineFile.truePeakDb)} | | | | ${inSpec(native.pipelineFile)} |`);
  lines.push('');
  console.log(lines.join('\n'));
}

function writeResults(r, machine) {
  const { b, native } = r;
  const fig = {
    'bench.date': new Date().toISOString(),
    'bench.machine': `${machine.nproc} cores, ${machine.cpu}, ${machine.chromium}`,
    'bench.nproc': machine.nproc,
    'bench.cpu': machine.cpu,
    'bench.chromium': machine.chromium,
    'bench.ffmpeg': machine.ffmpeg,
    'bench.loadavg_1m_at_start': round(machine.load, 2),
    'bench.stems': `${STEM_COUNT} stereo × ${SECONDS} s × ${RATE} Hz, 16-bit WAV`,
    'automix.analysis_s': round(b.automix.cold.analysis_s),
    'automix.inference_s': round(b.automix.warm.inference_s, 4),
    'automix.model_call_s': round(b.automix.warm.model_s, 4),
    'automix.model_cold_s': round(b.automix.cold.model_s),
    'automix.total_s': round(b.automix.cold.analysis_s + b.automix.warm.model_s),
    'automix.ep': b.automix.warm.ep,
    'mix.decode_s': round(b.decode_s),
    'mix.decode_runs_s': b.imports.map((x) => round(x)),
    'mix.export_runs_s': b.mp3Runs.map((x) => round(x)),
    'mix.render_s': round(b.mp3.timings.render_s),
    'mix.master_s': round(b.mp3.timings.master_s),
    'mix.encode_s': round(b.mp3.timings.encode_s),
    'mix.verify_s': round(b.mp3.timings.verify_s),
    'mix.total_s': round(r.total_s),
    'mix.total_with_verify_s': round(r.total_with_verify_s),
    'mix.export_wall_s': round(b.mp3.wall_s),
    'mix.export_passes': b.mp3.check.attempts,
    'mix.render_standalone_s': round(b.standalone.render_s),
    'mix.render_cold_s': round(b.mp3Cold.timings.render_s),
    'mix.master_cold_s': round(b.mp3Cold.timings.master_s),
    'mix.encode_cold_s': round(b.mp3Cold.timings.encode_s),
    'mix.verify_cold_s': round(b.mp3Cold.timings.verify_s),
    'mix.export_cold_passes': b.mp3Cold.check.attempts,
    'native.pipeline_s': round(native.pipeline_s),
    'native.lame_s': round(native.lame_s),
    'native.pipeline.lufs': round(native.pipelineFile.lufs, 2),
    'native.pipeline.true_peak_db': round(native.pipelineFile.truePeakDb, 2),
    'native.lame.lufs': round(native.lameFile.lufs, 2),
    'native.lame.true_peak_db': round(native.lameFile.truePeakDb, 2),
    'native.pipeline_filter': native.chain,
    'ratio.total_over_lame': round(r.ratio.total_over_lame),
    'ratio.total_over_native_pipeline': round(r.ratio.total_over_native_pipeline),
    'ratio.master_export_over_native_pipeline': round(r.ratio.master_export_over_native_pipeline),
    'target.total_over_lame_max': MAX_TOTAL_OVER_LAME,
    'target.total_over_native_pipeline_max': MAX_TOTAL_OVER_PIPELINE,
    'target.total_over_lame_met': r.ratio.total_over_lame <= MAX_TOTAL_OVER_LAME,
    'target.total_over_native_pipeline_met': r.ratio.total_over_native_pipeline <= MAX_TOTAL_OVER_PIPELINE,
  };
  for (const [format, e] of [
    ['mp3', b.mp3],
    ['wav', b.wav],
    ['flac', b.flac],
  ]) {
    fig[`export.${format}.lufs`] = round(e.measured.lufs, 2);
    fig[`export.${format}.true_peak_db`] = round(e.measured.truePeakDb, 2);
    fig[`export.${format}.app_lufs`] = round(e.check.lufs, 2);
    fig[`export.${format}.app_true_peak_db`] = round(e.check.truePeakDb, 2);
    fig[`export.${format}.passes`] = e.check.attempts;
    fig[`export.${format}.within_spec`] = Math.abs(e.measured.lufs - TARGET_LUFS) <= 0.5 && e.measured.truePeakDb <= CEILING_DBTP;
    fig[`export.${format}.bytes`] = e.bytes;
    fig[`export.${format}.wall_s`] = round(e.wall_s);
    fig[`export.${format}.encode_s`] = round(e.timings.encode_s);
  }
  mergeResults(fig);
  return fig;
}

/** Merges figures into bench-results.json, keeping the keys another part of the bench wrote. */
function mergeResults(fig) {
  let merged = {};
  if (existsSync(RESULTS)) {
    try {
      const prev = JSON.parse(readFileSync(RESULTS, 'utf8'));
      if (prev && typeof prev === 'object' && !Array.isArray(prev)) merged = prev;
    } catch {
      log(`${RESULTS} was not valid JSON; replacing it`);
    }
  }
  Object.assign(merged, fig);
  const sorted = Object.fromEntries(Object.entries(merged).sort(([a], [b2]) => a.localeCompare(b2)));
  writeFileSync(`${RESULTS}.tmp`, `${JSON.stringify(sorted, null, 2)}\n`);
  renameSync(`${RESULTS}.tmp`, RESULTS);
  log(`wrote ${Object.keys(fig).length} figures to ${RESULTS}`);
}

function machineInfo() {
  let chromiumVersion = 'unknown';
  try {
    const out = execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    chromiumVersion = out.split('\n').find((l) => /chromium/i.test(l))?.trim() ?? chromiumVersion;
  } catch {
    // reported as unknown
  }
  let ffmpegVersion = 'unknown';
  try {
    ffmpegVersion = execFileSync('ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8' }).split('\n')[0].replace(/ Copyright.*/, '');
  } catch {
    // reported as unknown
  }
  return { nproc: cpus().length, cpu: cpus()[0]?.model.trim() ?? 'unknown', chromium: chromiumVersion, ffmpeg: ffmpegVersion, load: loadavg()[0] };
}

async function main() {
  const started = performance.now();
  ensureTools();
  const machine = machineInfo();
  log(`${machine.nproc} cores (${machine.cpu}), ${machine.chromium}, ${machine.ffmpeg}, load ${machine.load.toFixed(2)}`);
  const work = mkdtempSync(join(tmpdir(), 'aimixer-bench-'));
  cleanups.push(() => (KEEP_OUTPUTS ? log(`outputs kept in ${work}`) : rmSync(work, { recursive: true, force: true })));
  if (PARTS.mix) await mixBench(machine, work);
  if (PARTS.podcast) {
    const baseUrl = await startPreview();
    const fig = await podcastBench({ root: ROOT, baseUrl, work, log, readPageBlob: fetchPageBlob, measureFile, cleanups });
    mergeResults({ 'bench.date': new Date().toISOString(), 'bench.machine': `${machine.nproc} cores, ${machine.cpu}, ${machine.chromium}`, 'bench.loadavg_1m_at_podcast_start': round(machine.load, 2), ...fig });
    console.log(JSON.stringify(fig, null, 2));
  }
  log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s; load ${loadavg()[0].toFixed(2)} (other work on this machine skews the timings, not the ratios taken in one run as much)`);
}

async function mixBench(machine, work) {
  const stems = await generateStems();

  log('native reference: (a) amix → loudnorm → alimiter → libmp3lame 320k; (b) libmp3lame 320k of a finished mix');
  const reference = new NativeReference(stems, work);
  reference.round(1, 2);

  const served = join(ROOT, DIST, STEMS_URL_DIR);
  cleanups.push(() => rmSync(served, { recursive: true, force: true }));
  mkdirSync(served, { recursive: true });
  const names = stems.map((f) => f.split('/').pop());
  for (const f of stems) cpSync(f, join(served, f.split('/').pop()));

  const baseUrl = await startPreview();
  log(`vite preview at ${baseUrl}`);
  const b = await browserRun(baseUrl, names, work);
  log('native reference, second round');
  reference.round(1, 1);
  const native = reference.result();
  if (b.pageErrors.length) log(`page errors/console errors during the run:\n  ${b.pageErrors.join('\n  ')}`);
  if (b.warnings.length) log(`app warnings:\n  ${b.warnings.join('\n  ')}`);

  const t = b.mp3.timings;
  const total_s = b.decode_s + t.render_s + t.master_s + t.encode_s;
  const r = {
    b,
    native,
    total_s,
    total_with_verify_s: total_s + t.verify_s,
    ratio: {
      total_over_lame: total_s / native.lame_s,
      total_over_native_pipeline: total_s / native.pipeline_s,
      master_export_over_native_pipeline: (t.master_s + t.encode_s) / native.pipeline_s,
    },
  };
  printReport(r);
  const fig = writeResults(r, machine);
  console.log(JSON.stringify(fig, null, 2));
}

const deadline = setTimeout(() => {
  console.error(`bench: FAILED: still running after ${DEADLINE_MS / 60_000} minutes`);
  void cleanup().finally(() => process.exit(1));
}, DEADLINE_MS);
deadline.unref();
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => void cleanup().finally(() => process.exit(130)));

let code = 0;
try {
  await main();
} catch (e) {
  console.error(`bench: FAILED: ${e instanceof Error ? (e.stack ?? e.message) : e}`);
  code = 1;
} finally {
  await cleanup();
}
process.exit(code);

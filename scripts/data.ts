// `npm run data`: renders the lmms demo songs (stems + the musician's full mix) and caches their
// track features under .cache/lmms/ (gitignored). Resumable: finished songs are skipped, and every
// song is written to a temporary folder and renamed into place only when complete.
//
//   npm run data                      render, then analyse, every song of scripts/automix/split.json
//   npm run data -- --render-only     only render
//   npm run data -- --features-only   only analyse songs already rendered (alongside a render)
//   npm run data -- --only SLUG       one song
//   npm run data -- --timeout 1800    per-song render limit in seconds
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { CACHE_DIR, FEATURES_DIR, LMMS_PROJECTS, readSplit, songSlug, SONGS_DIR } from './automix/paths';
import { projectSeconds, windowProject } from './automix/lmms-project';
import { analyseSongFolder, mixLoudness, SONG_FEATURES_VERSION, type SongFeatures } from './automix/song-features';

const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(name);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

const LOG_FILE = join(CACHE_DIR, 'data.log');
/** lmms renders twice as fast without 2× oversampling; the synths' aliasing at 1× is inaudible in level features. */
const OVERSAMPLING = '1';
const timeoutSeconds = Number(option('--timeout') ?? 1800);
/**
 * Projects with more tracks than this are skipped: Jousboxx-BuzzerBeater (98 tracks) had rendered
 * only 22 stems after 16 minutes here, and a session of more than 32 tracks is outside the auto-mix
 * contract anyway.
 */
const MAX_PROJECT_TRACKS = 64;
/**
 * Songs longer than this are rendered as a window of MAX_SONG_SECONDS where most of their tracks
 * play (scripts/automix/lmms-project.ts): lmms renders the whole song once per track, and with 2
 * shared cores a 5-minute, 21-track song (Momo64-esp) took 20 minutes. The first songs rendered
 * (Alf42red-Mauiwowi, CapDan-ReggaetonTry, CapDan-TwilightArea, CapDan-ZeroSumGame, EsoXLB-CPU,
 * CapDan-ReggaeTry, Momo64-esp) were rendered whole; render.json records which.
 */
const MAX_SONG_SECONDS = Number(option('--max-seconds') ?? 90);

function log(line: string): void {
  const stamped = `${new Date().toISOString()} ${line}`;
  console.log(stamped);
  appendFileSync(LOG_FILE, stamped + '\n');
}

function ensureLmms(): void {
  if (spawnSync('sh', ['-c', 'command -v lmms'], { encoding: 'utf8' }).status === 0 && existsSync(join(LMMS_PROJECTS, 'demos'))) return;
  log('lmms is missing: installing lmms and lmms-common with apt-get');
  const r = spawnSync('apt-get', ['install', '-y', 'lmms', 'lmms-common'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) throw new Error('apt-get install lmms lmms-common failed (run as root, or install them yourself)');
}

/** Every project lmms-common installs, keyed by slug, from its package file list. */
function listProjects(): Map<string, string> {
  const r = spawnSync('dpkg', ['-L', 'lmms-common'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dpkg -L lmms-common failed: ${r.stderr}`);
  const projects = new Map<string, string>();
  for (const path of r.stdout.split('\n')) {
    if (/\/projects\/(demos|shorties)\/.*\.mmpz?$/.test(path)) projects.set(songSlug(path), path);
  }
  return projects;
}

/** `outputs` counts what the render has written, to tell a crash on exit from a failed render. */
function runLmms(argv: string[], logPath: string, deadline: number, outputs: () => number = () => 0): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('lmms', ['--allowroot', ...argv], { env: { ...process.env, QT_QPA_PLATFORM: 'offscreen' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stderr.on('data', (d: Buffer) => chunks.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(1000, deadline - Date.now()));
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      const output = Buffer.concat(chunks).toString('utf8');
      // The progress bar is carriage returns: keep the log readable.
      appendFileSync(logPath, output.replace(/\r[^\n]*?(?=\r|\n)/g, '') + '\n');
      // lmms 1.2 sometimes crashes while quitting, after the last track is written (TameAnderson-MakeMe).
      const last = [...output.matchAll(/\((\d+)\/(\d+)\)/g)].pop();
      if (sig && argv[0] === 'rendertracks' && Date.now() < deadline && last && last[1] === last[2] && outputs() === Number(last[2])) {
        log(`lmms rendertracks crashed (${sig}) after writing all ${last[2]} tracks; keeping them`);
        resolve();
      } else if (sig) reject(new Error(Date.now() >= deadline ? `lmms ${argv[0]} stopped (${sig}): over the ${timeoutSeconds} s limit` : `lmms ${argv[0]} crashed (${sig}); see ${logPath}`));
      else if (code !== 0) reject(new Error(`lmms ${argv[0]} exited with ${code}; see ${logPath}`));
      else resolve();
    });
  });
}

interface RenderRecord {
  slug: string;
  project: string;
  /** Length of the arrangement, and the window rendered (null: rendered whole). */
  projectSeconds: number;
  window: { startSeconds: number; seconds: number } | null;
  stems: string[];
  seconds: number;
  rendered: string;
}

/** The project's XML (`lmms dump` uncompresses .mmpz). */
function projectXml(project: string): string {
  if (!project.endsWith('.mmpz')) return readFileSync(project, 'utf8');
  const r = spawnSync('lmms', ['--allowroot', 'dump', project], { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, QT_QPA_PLATFORM: 'offscreen' } });
  // Projects saved by lmms before 1.0 say <multimedia-project>.
  if (r.status !== 0 || !/<(lmms|multimedia)-project/.test(r.stdout)) throw new Error(`lmms dump ${project} failed (${r.status}): ${r.stderr.trim().split('\n').pop()}`);
  return r.stdout;
}

/** Tracks in a project (instrument, beat/bassline, sample and automation tracks alike). */
const trackCount = (xml: string): number => (xml.match(/<track /g) ?? []).length;

async function renderSong(slug: string, original: string): Promise<void> {
  let project = original;
  const done = join(SONGS_DIR, slug, 'render.json');
  if (existsSync(done)) return;
  const xml = projectXml(project);
  const tracks = trackCount(xml);
  if (tracks > MAX_PROJECT_TRACKS) throw new Error(`skipped: ${tracks} tracks in the project, over the limit of ${MAX_PROJECT_TRACKS}`);
  const tmp = join(SONGS_DIR, `.${slug}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'stems'), { recursive: true });
  const seconds = projectSeconds(xml);
  const cut = windowProject(xml, MAX_SONG_SECONDS);
  if (cut) {
    const shortened = join(tmp, 'project.mmp');
    writeFileSync(shortened, cut.xml);
    log(`render ${slug}: ${seconds.toFixed(0)} s long, rendering ${MAX_SONG_SECONDS} s from ${cut.startSeconds.toFixed(1)} s`);
    project = shortened;
  }
  const started = Date.now();
  const deadline = started + timeoutSeconds * 1000;
  const lmmsLog = join(tmp, 'lmms.log');
  log(`render ${slug}: stems`);
  // The trailing slash matters: lmms writes "<dir>/<n>_<track>.wav" only when given a folder path.
  const stemCount = () => readdirSync(join(tmp, 'stems')).filter((f) => f.endsWith('.wav')).length;
  await runLmms(['rendertracks', project, '-f', 'wav', '-a', '-x', OVERSAMPLING, '-o', join(tmp, 'stems') + '/'], lmmsLog, deadline, stemCount);
  log(`render ${slug}: full mix`);
  await runLmms(['render', project, '-f', 'wav', '-a', '-x', OVERSAMPLING, '-o', join(tmp, 'mix.wav')], lmmsLog, deadline);
  const stems = readdirSync(join(tmp, 'stems')).filter((f) => f.endsWith('.wav')).sort();
  if (stems.length === 0) throw new Error(`lmms rendered no stems for ${slug}; see ${lmmsLog}`);
  if (!existsSync(join(tmp, 'mix.wav'))) throw new Error(`lmms rendered no mix for ${slug}; see ${lmmsLog}`);
  const record: RenderRecord = {
    slug,
    project: original,
    projectSeconds: Math.round(seconds * 10) / 10,
    window: cut ? { startSeconds: Math.round(cut.startSeconds * 10) / 10, seconds: MAX_SONG_SECONDS } : null,
    stems,
    seconds: (Date.now() - started) / 1000,
    rendered: new Date().toISOString(),
  };
  writeFileSync(join(tmp, 'render.json'), JSON.stringify(record, null, 2));
  rmSync(join(SONGS_DIR, slug), { recursive: true, force: true });
  renameSync(tmp, join(SONGS_DIR, slug));
  log(`render ${slug}: ${stems.length} stems in ${record.seconds.toFixed(0)} s`);
}

function featuresSong(slug: string): void {
  const out = join(FEATURES_DIR, `${slug}.json`);
  if (existsSync(out)) {
    const cached = JSON.parse(readFileSync(out, 'utf8')) as SongFeatures;
    if (cached.version === SONG_FEATURES_VERSION) {
      // Caches written before the mix's loudness was recorded only need that.
      if (cached.mixLufs === undefined) {
        cached.mixLufs = mixLoudness(join(SONGS_DIR, slug));
        writeFileSync(out + '.tmp', JSON.stringify(cached));
        renameSync(out + '.tmp', out);
        log(`features ${slug}: added the mix's loudness`);
      }
      return;
    }
  }
  const started = Date.now();
  const song = analyseSongFolder(slug, join(SONGS_DIR, slug));
  writeFileSync(out + '.tmp', JSON.stringify(song));
  renameSync(out + '.tmp', out);
  log(`features ${slug}: ${song.stems.length} stems in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function main(): Promise<void> {
  mkdirSync(SONGS_DIR, { recursive: true });
  mkdirSync(FEATURES_DIR, { recursive: true });
  ensureLmms();
  const projects = listProjects();
  const split = readSplit();
  for (const [slug, why] of Object.entries(split.excluded ?? {})) log(`excluded ${slug}: ${why}`);
  const only = option('--only');
  // Validation and independent songs first (the evaluation needs them all), then training songs.
  const slugs = [...split.validation, ...split.independent, ...split.train].filter((s) => !only || s === only);
  log(`data: ${slugs.length} songs, ${cpus().length} cores, one lmms at a time, ${timeoutSeconds} s limit per song`);
  const failed: string[] = [];
  const pending: string[] = [];
  for (const slug of slugs) {
    const project = projects.get(slug);
    if (!project) {
      log(`skip ${slug}: not in lmms-common's file list`);
      failed.push(slug);
      continue;
    }
    try {
      if (flag('--features-only')) {
        if (!existsSync(join(SONGS_DIR, slug, 'render.json'))) {
          pending.push(slug);
          continue;
        }
      } else await renderSong(slug, project);
      if (!flag('--render-only')) featuresSong(slug);
    } catch (e) {
      log(`FAILED ${slug}: ${(e as Error).message}`);
      failed.push(slug);
    }
  }
  const bytes = slugs.filter((s) => existsSync(join(SONGS_DIR, s))).reduce((sum, s) => sum + folderBytes(join(SONGS_DIR, s)), 0);
  log(`data: done, ${slugs.length - failed.length - pending.length}/${slugs.length} songs, ${(bytes / 1e9).toFixed(1)} GB of audio${pending.length ? `; not rendered yet: ${pending.length}` : ''}${failed.length ? `; failed: ${failed.join(', ')}` : ''}`);
  if (failed.length) process.exitCode = 1;
}

function folderBytes(dir: string): number {
  let sum = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    sum += s.isDirectory() ? folderBytes(p) : s.size;
  }
  return sum;
}

await main();

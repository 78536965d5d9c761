// The import-direction check (`npm run check:imports`, and a unit test in `npm test`): nothing imports upward
// (app → ui → state → bridge and worker handles → worker code → models/ml/media/storage → dsp → shared), and a
// feature imports another feature only through its index.ts or contract.ts (the app may take a feature's ui/ panels). Hand-written: no kept package knows these layers.
import fs from 'node:fs';
import path from 'node:path';

export interface ImportViolation {
  from: string;
  to: string;
  why: string;
}

const SOURCE = /\.(ts|svelte)$/;
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g;
const RESOLVE = ['', '.ts', '.svelte.ts', '.svelte', '/index.ts'];
/** A feature's files that other features may import. */
const PUBLIC = new Set(['index.ts', 'contract.ts']);

/** The layer a file sits in, or null where it is derived from what it imports (a feature's own modules). */
function fixedLayer(file: string): number | null {
  const f = file.split(path.sep).join('/');
  // The app's composition root: it puts the features' panels and states together.
  if (f === 'src/main.ts' || f === 'src/App.svelte' || f === 'src/features/desks.ts') return 7;
  const feature = /^src\/features\/[^/]+\/(.+)$/.exec(f);
  if (feature) {
    const rest = feature[1];
    if (rest.startsWith('ui/') || rest.endsWith('.svelte')) return 6;
    if (rest.endsWith('.svelte.ts') || rest === 'index.ts') return 5;
    if (rest === 'workers.ts') return 4;
    if (rest.startsWith('worker/')) return 3;
    return null;
  }
  if (f.startsWith('src/components/') || f.endsWith('.svelte')) return 6;
  if (f.startsWith('src/pwa/')) return 5;
  if (f.startsWith('src/bridge/')) return 4;
  if (f.startsWith('workers/')) return 3;
  if (/^src\/(ml|media|storage)\//.test(f) || f.startsWith('models/')) return 2;
  if (/^src\/(dsp|dsp-kernels|rating)\//.test(f)) return 1;
  if (f.startsWith('src/shared/') || f === 'src/global.d.ts') return 0;
  return null;
}

const LAYER_NAMES = ['shared', 'dsp', 'models/ml/media/storage', 'worker code', 'bridge/worker handles', 'state', 'ui', 'app'];

function featureOf(file: string): string | null {
  return /^src\/features\/([^/]+)\//.exec(file.split(path.sep).join('/'))?.[1] ?? null;
}

function listSources(root: string, dirs: string[]): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const abs = path.join(root, rel);
    if (!fs.existsSync(abs)) return;
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const child = path.join(rel, e.name);
      if (e.isDirectory()) walk(child);
      else if (SOURCE.test(e.name) && !e.name.endsWith('.d.ts')) out.push(child);
    }
  };
  dirs.forEach(walk);
  return out;
}

function importsOf(root: string, file: string, known: Set<string>): string[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const base = path.normalize(path.join(path.dirname(file), m[2].split('?')[0]));
    const hit = RESOLVE.map((e) => base + e).find((c) => known.has(c));
    if (hit) found.push(hit);
  }
  return found;
}

/** Every upward or cross-feature import under `root` (the repository). */
export function checkImports(root: string): ImportViolation[] {
  const files = listSources(root, ['src', 'workers', 'models']);
  const known = new Set(files);
  const graph = new Map(files.map((f) => [f, importsOf(root, f, known)]));
  // A feature's own modules sit at the highest layer of what they import, at least just above core.
  const layers = new Map<string, number>();
  const layerOf = (f: string, seen = new Set<string>()): number => {
    const fixed = fixedLayer(f);
    if (fixed !== null) return fixed;
    const cached = layers.get(f);
    if (cached !== undefined) return cached;
    if (seen.has(f)) return 2.5;
    seen.add(f);
    const l = Math.max(2.5, ...(graph.get(f) ?? []).map((t) => layerOf(t, seen)));
    layers.set(f, l);
    return l;
  };
  const violations: ImportViolation[] = [];
  const name = (l: number) => (Number.isInteger(l) ? LAYER_NAMES[l] : `a feature module (at the ${LAYER_NAMES[Math.ceil(l)]} layer)`);
  for (const [from, targets] of graph) {
    const fromFeature = featureOf(from);
    for (const to of targets) {
      const toFeature = featureOf(to);
      if (toFeature && fromFeature && fromFeature !== toFeature && !PUBLIC.has(path.basename(to)) && !(from.startsWith('workers') && to.includes(`${path.sep}worker${path.sep}`))) {
        violations.push({ from, to, why: `reaches into the ${toFeature} feature: import its index.ts or contract.ts` });
        continue;
      }
      const lf = fixedLayer(from);
      const lt = layerOf(to);
      if (lf !== null && lt > lf) violations.push({ from, to, why: `${name(lf)} imports ${name(lt)}` });
    }
  }
  return violations;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const found = checkImports(process.cwd());
  for (const v of found) console.error(`${v.from} → ${v.to}: ${v.why}`);
  console.log(found.length ? `${found.length} import(s) against the direction` : 'imports: every one points down or sideways');
  process.exit(found.length ? 1 : 0);
}

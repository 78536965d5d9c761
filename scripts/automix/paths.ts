// Where the auto-mix dataset lives (outside git) and which songs belong to which split.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CACHE_DIR = join(REPO_ROOT, '.cache/lmms');
export const SONGS_DIR = join(CACHE_DIR, 'songs');
export const FEATURES_DIR = join(CACHE_DIR, 'features');
export const LMMS_PROJECTS = '/usr/share/lmms/projects';
export const SPLIT_FILE = join(REPO_ROOT, 'scripts/automix/split.json');

export interface SongSplit {
  /** Demo songs the model learns from. */
  train: string[];
  /** Demo songs held out for model selection and the reported validation table. */
  validation: string[];
  /** shorties/: never used for training or tuning, only for independent evaluation. */
  independent: string[];
  /** Songs left out of every list above, with the reason. */
  excluded: Record<string, string>;
}

/** The split, with excluded songs removed from its lists. */
export function readSplit(): SongSplit {
  const split = JSON.parse(readFileSync(SPLIT_FILE, 'utf8')) as SongSplit;
  const keep = (slugs: string[]) => slugs.filter((s) => !(s in (split.excluded ?? {})));
  return { ...split, train: keep(split.train), validation: keep(split.validation), independent: keep(split.independent) };
}

/** "demos/CapDan/CapDan-ReggaeTry.mmpz" → "CapDan-ReggaeTry". */
export function songSlug(projectPath: string): string {
  const base = projectPath.split('/').pop() ?? projectPath;
  return base.replace(/\.mmpz?$/, '');
}

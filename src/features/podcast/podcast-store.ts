// The podcast episode kept across reloads: its file, its analysis and the reel being edited.
// Stored under `podcast:*` keys of the kv store (no schema change): one current episode at a time.
import { openDb } from '../../storage/db';
import { wrapQuota } from '../../storage/quota';
import { ANALYSIS_VERSION, type EpisodeAnalysis } from './episode';
import type { EpisodeStructure } from './segments';
import type { EpisodeSource } from './source';
import type { ReelPlan } from './select';
import type { ThemeId } from './themes';

export const PODCAST_STORE_VERSION = 1;

export interface StoredEpisode {
  version: number;
  id: string;
  name: string;
  size: number;
  lastModified: number;
  type: string;
  source: EpisodeSource;
  warnings: string[];
  savedAt: number;
}

export interface StoredClipFile {
  name: string;
  blob: Blob;
  durationS: number;
}

export interface StoredReel {
  episodeId: string;
  themeId: ThemeId;
  targetS: number;
  layout: 'stereo' | 'mono';
  plan: ReelPlan | null;
  intro: StoredClipFile | null;
  outro: StoredClipFile | null;
}

const KEYS = { episode: 'podcast:episode', file: 'podcast:file', analysis: 'podcast:analysis', reel: 'podcast:reel' } as const;

/** Replaces the stored episode: its record and file in one transaction, the old analysis and reel dropped. */
export async function saveEpisode(rec: StoredEpisode, file: Blob): Promise<void> {
  await wrapQuota(async () => {
    const db = await openDb();
    const tx = db.transaction('kv', 'readwrite');
    await Promise.all([tx.store.put(rec, KEYS.episode), tx.store.put(file, KEYS.file), tx.store.delete(KEYS.analysis), tx.store.delete(KEYS.reel), tx.done]);
  });
}

export async function saveAnalysis(episodeId: string, analysis: EpisodeAnalysis, structure: EpisodeStructure): Promise<void> {
  await wrapQuota(async () => {
    await (await openDb()).put('kv', { episodeId, analysis, structure }, KEYS.analysis);
  });
}

export async function saveReel(reel: StoredReel): Promise<void> {
  await wrapQuota(async () => {
    await (await openDb()).put('kv', reel, KEYS.reel);
  });
}

export interface RestoredPodcast {
  episode: StoredEpisode;
  file: Blob;
  analysis: { analysis: EpisodeAnalysis; structure: EpisodeStructure } | null;
  reel: StoredReel | null;
}

/** The stored episode with everything that belongs to it, or null; parts of an older episode are ignored. */
export async function loadPodcast(): Promise<RestoredPodcast | null> {
  const db = await openDb();
  const tx = db.transaction('kv', 'readonly');
  const [episode, file, analysis, reel] = (await Promise.all([tx.store.get(KEYS.episode), tx.store.get(KEYS.file), tx.store.get(KEYS.analysis), tx.store.get(KEYS.reel)])) as [
    StoredEpisode | undefined,
    Blob | undefined,
    { episodeId: string; analysis: EpisodeAnalysis; structure: EpisodeStructure } | undefined,
    StoredReel | undefined,
  ];
  if (!episode || !file || episode.version !== PODCAST_STORE_VERSION) return null;
  return {
    episode,
    file,
    // An analysis made by an older version of the analysis code is redone rather than trusted.
    analysis: analysis?.episodeId === episode.id && analysis.analysis.version === ANALYSIS_VERSION ? { analysis: analysis.analysis, structure: analysis.structure } : null,
    reel: reel?.episodeId === episode.id ? reel : null,
  };
}

export async function clearPodcast(): Promise<void> {
  const db = await openDb();
  const tx = db.transaction('kv', 'readwrite');
  await Promise.all([...Object.values(KEYS).map((k) => tx.store.delete(k)), tx.done]);
}

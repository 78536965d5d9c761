// The podcast episode kept across reloads: its file, its analysis and the reel being edited.
// The episode's records are `podcast.*` kv keys and its file a feature blob: one current episode at a time.
import { getFeatureBlob, writeFeatureData } from '../../storage/feature-blobs';
import { kvGetMany, kvPut } from '../../storage/kv';
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

interface StoredAnalysis {
  episodeId: string;
  analysis: EpisodeAnalysis;
  structure: EpisodeStructure;
}

declare module '../../storage/kv' {
  interface KvSchema {
    'podcast.episode': StoredEpisode;
    'podcast.analysis': StoredAnalysis;
    'podcast.reel': StoredReel;
  }
}

declare module '../../storage/feature-blobs' {
  interface FeatureBlobSchema {
    /** The episode's file, id 'episode'; episodeId ties it to its 'podcast.episode' record. */
    podcast: { episodeId: string };
  }
}

const KEYS = ['podcast.episode', 'podcast.analysis', 'podcast.reel'] as const;
const FILE_ID = 'episode';

/** Replaces the stored episode: its record and file in one transaction, the old analysis and reel dropped. */
export async function saveEpisode(rec: StoredEpisode, file: Blob): Promise<void> {
  await writeFeatureData(async ({ kv, blobs }) => {
    await Promise.all([
      kv.put('podcast.episode', rec),
      blobs.put('podcast', { id: FILE_ID, label: rec.name, blob: file, meta: { episodeId: rec.id }, savedAt: rec.savedAt }),
      kv.delete('podcast.analysis'),
      kv.delete('podcast.reel'),
    ]);
  });
}

export async function saveAnalysis(episodeId: string, analysis: EpisodeAnalysis, structure: EpisodeStructure): Promise<void> {
  await kvPut('podcast.analysis', { episodeId, analysis, structure });
}

export async function saveReel(reel: StoredReel): Promise<void> {
  await kvPut('podcast.reel', reel);
}

export interface RestoredPodcast {
  episode: StoredEpisode;
  file: Blob;
  analysis: { analysis: EpisodeAnalysis; structure: EpisodeStructure } | null;
  reel: StoredReel | null;
}

/** The stored episode with everything that belongs to it, or null; parts of an older episode are ignored. */
export async function loadPodcast(): Promise<RestoredPodcast | null> {
  const [[episode, analysis, reel], file] = await Promise.all([kvGetMany(KEYS), getFeatureBlob('podcast', FILE_ID)]);
  // Two reads: a file saved by another tab in between belongs to another episode.
  if (!episode || !file || file.meta.episodeId !== episode.id || episode.version !== PODCAST_STORE_VERSION) return null;
  return {
    episode,
    file: file.blob,
    // An analysis made by an older version of the analysis code is redone rather than trusted.
    analysis: analysis?.episodeId === episode.id && analysis.analysis.version === ANALYSIS_VERSION ? { analysis: analysis.analysis, structure: analysis.structure } : null,
    reel: reel?.episodeId === episode.id ? reel : null,
  };
}

export async function clearPodcast(): Promise<void> {
  await writeFeatureData(async ({ kv, blobs }) => {
    await Promise.all([...KEYS.map((k) => kv.delete(k)), blobs.delete('podcast', FILE_ID)]);
  });
}

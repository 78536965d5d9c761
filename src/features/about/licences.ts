// What "About & licences" lists: every registry model, grouped by its folder (dtype variants together), and the
// third-party code the app ships. tests/unit/about.test.ts holds this list to node_modules and to the imports.
import type { RegisteredModel } from '../../../models/registry';

export interface RuntimeLicence {
  /** npm package name. */
  name: string;
  version: string;
  /** SPDX expression, as the package states it. */
  licence: string;
  use: string;
  source: string;
  /** What the licence asks of whoever redistributes the app, where it asks more than a notice. */
  obligations?: string;
}

export const RUNTIME_LICENCES: readonly RuntimeLicence[] = [
  { name: 'onnxruntime-web', version: '1.30.0', licence: 'MIT', use: 'runs the models (WASM and WebGPU)', source: 'https://github.com/microsoft/onnxruntime' },
  {
    name: '@ffmpeg/core',
    version: '0.12.10',
    licence: 'GPL-2.0-or-later',
    use: 'decodes and encodes audio (FFmpeg compiled to WebAssembly)',
    source: 'https://github.com/ffmpegwasm/ffmpeg.wasm',
    obligations:
      'FFmpeg alone is LGPL-2.1-or-later, but this build is configured with --enable-gpl and links x264 and x265, so as shipped it is GPL-2.0-or-later: whoever redistributes the app must offer the corresponding source (the ffmpeg.wasm repository at @ffmpeg/core 0.12.10, and FFmpeg’s from ffmpeg.org).',
  },
  { name: '@echogarden/pffft-wasm', version: '0.4.2', licence: 'BSD-3-Clause', use: 'fast Fourier transforms of the podcast analysis (PFFFT, WebAssembly SIMD)', source: 'https://github.com/echogarden-project/pffft-wasm' },
  { name: 'fft.js', version: '4.0.4', licence: 'MIT', use: 'Fourier transforms where PFFFT cannot load', source: 'https://github.com/indutny/fft.js' },
  { name: 'comlink', version: '4.4.2', licence: 'Apache-2.0', use: 'calls between the page and its workers', source: 'https://github.com/GoogleChromeLabs/comlink' },
  { name: 'idb', version: '8.0.4', licence: 'ISC', use: 'sessions, audio and model cache in IndexedDB', source: 'https://github.com/jakearchibald/idb' },
  { name: 'svelte', version: '5.57.3', licence: 'MIT', use: 'the user interface', source: 'https://github.com/sveltejs/svelte' },
  { name: 'valibot', version: '1.5.0', licence: 'MIT', use: 'checks of votes and registry entries', source: 'https://github.com/open-circle/valibot' },
  { name: 'wavesurfer.js', version: '8.0.1', licence: 'BSD-3-Clause', use: 'waveforms, timeline and regions', source: 'https://github.com/katspaugh/wavesurfer.js' },
  { name: 'workbox-window', version: '7.4.1', licence: 'MIT', use: 'service-worker updates (offline use)', source: 'https://github.com/GoogleChrome/workbox' },
  { name: 'workbox-build', version: '7.4.1', licence: 'MIT', use: 'generates the service worker, which carries Workbox’s precaching code', source: 'https://github.com/GoogleChrome/workbox' },
];

export interface ModelGroup {
  folder: string;
  title: string;
  models: RegisteredModel[];
}

/** Entries grouped by folder, in registry order; a group of variants is titled by its folder and version. */
export function modelGroups(registry: readonly RegisteredModel[]): ModelGroup[] {
  const groups: ModelGroup[] = [];
  for (const m of registry) {
    const g = groups.find((x) => x.folder === m.folder);
    if (g) g.models.push(m);
    else groups.push({ folder: m.folder, title: m.label, models: [m] });
  }
  for (const g of groups) {
    if (g.models.length > 1) g.title = `${g.folder} ${[...new Set(g.models.map((m) => m.version))].join(', ')} (${g.models.map((m) => m.dtype).join(', ')})`;
  }
  return groups;
}

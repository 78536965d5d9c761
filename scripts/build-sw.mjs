// After `vite build`: a Workbox service worker that precaches the app shell, the self-hosted
// ffmpeg/ORT wasm and the demo session, so the studio works offline from the first visit on.
import { generateSW } from 'workbox-build';

// DIST_DIR lets a second build live beside dist/ (e.g. while another test run serves dist/).
const DIST = process.env.DIST_DIR ?? 'dist';

const { count, size, warnings } = await generateSW({
  globDirectory: DIST,
  // Only the demo's audio: anything else in dist (e.g. the benchmark's stems) stays out of the cache.
  globPatterns: ['**/*.{html,js,mjs,css,wasm,webmanifest,svg,png,json,onnx}', 'demo/*.wav'],
  globIgnores: ['**/*.map', 'sw.js', 'workbox-*.js'],
  swDest: `${DIST}/sw.js`,
  // ffmpeg-core.wasm is ~32 MB.
  maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
  skipWaiting: false,
  clientsClaim: true,
  cleanupOutdatedCaches: true,
  navigateFallback: 'index.html',
  sourcemap: false,
  // Hashed file names already bust caches; don't add a revision query to them.
  dontCacheBustURLsMatching: /-[\w-]{8,}\.\w+$/,
});
for (const w of warnings) console.error(`build-sw: ${w}`);
// A file left out of the precache (e.g. over the size limit) would break offline use: fail the build.
if (warnings.length) process.exit(1);
console.log(`build-sw: precaching ${count} files, ${(size / 1e6).toFixed(1)} MB`);

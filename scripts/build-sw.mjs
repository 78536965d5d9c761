// After `vite build`: a Workbox service worker that precaches the app shell, the self-hosted
// ffmpeg/ORT wasm and the demo session, so the studio works offline from the first visit on.
import { generateSW } from 'workbox-build';

const { count, size, warnings } = await generateSW({
  globDirectory: 'dist',
  globPatterns: ['**/*.{html,js,css,wasm,webmanifest,svg,png,json,wav,onnx}'],
  globIgnores: ['**/*.map', 'sw.js', 'workbox-*.js'],
  swDest: 'dist/sw.js',
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
for (const w of warnings) console.warn(`build-sw: ${w}`);
console.log(`build-sw: precaching ${count} files, ${(size / 1e6).toFixed(1)} MB`);

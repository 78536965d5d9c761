// Draws the AI Mixer app icons (three channel faders) and writes PNGs plus an SVG favicon.
// Pure Node: shapes are signed-distance fields rasterised into an RGBA buffer, PNG via node:zlib.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const ICON_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'icons');

const BACKGROUND = [0x11, 0x13, 0x18];
const ACCENT = [0x6e, 0xe7, 0xb7];
const SLOT = [0x3a, 0x3f, 0x4b];
const PANEL = [0x1c, 0x20, 0x28];

/**
 * The glyph in a 0..1 unit square: three fader slots with caps at different heights,
 * so it still reads as a mixer at 16 px.
 */
const FADER_COLUMNS = [0.3, 0.5, 0.7];
const CAP_HEIGHTS = [0.62, 0.38, 0.52];

/** Signed distance from (x, y) to a rounded rectangle centred at (cx, cy). */
function roundedRectDistance(x, y, cx, cy, halfWidth, halfHeight, radius) {
  const qx = Math.abs(x - cx) - halfWidth + radius;
  const qy = Math.abs(y - cy) - halfHeight + radius;
  const outside = Math.hypot(Math.max(qx, 0), Math.max(qy, 0));
  return outside + Math.min(Math.max(qx, qy), 0) - radius;
}

/** Layers paint in order; each is [distanceFn(u, v), rgb]. `glyphScale` shrinks the glyph for maskable safe zones. */
function iconLayers({ fullBleed, glyphScale }) {
  const layers = [];
  const toGlyph = (u, v) => [0.5 + (u - 0.5) / glyphScale, 0.5 + (v - 0.5) / glyphScale];
  if (fullBleed) layers.push([() => -1, BACKGROUND]);
  else layers.push([(u, v) => roundedRectDistance(u, v, 0.5, 0.5, 0.5, 0.5, 0.2), BACKGROUND]);
  layers.push([
    (u, v) => {
      const [x, y] = toGlyph(u, v);
      return roundedRectDistance(x, y, 0.5, 0.5, 0.34, 0.36, 0.08) * glyphScale;
    },
    PANEL,
  ]);
  FADER_COLUMNS.forEach((column, i) => {
    layers.push([
      (u, v) => {
        const [x, y] = toGlyph(u, v);
        return roundedRectDistance(x, y, column, 0.5, 0.018, 0.27, 0.018) * glyphScale;
      },
      SLOT,
    ]);
    layers.push([
      (u, v) => {
        const [x, y] = toGlyph(u, v);
        return roundedRectDistance(x, y, column, CAP_HEIGHTS[i], 0.075, 0.045, 0.02) * glyphScale;
      },
      ACCENT,
    ]);
  });
  return layers;
}

function rasterise(size, layers) {
  const rgba = new Uint8Array(size * size * 4);
  const pixel = 1 / size;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const u = (px + 0.5) * pixel;
      const v = (py + 0.5) * pixel;
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (const [distance, colour] of layers) {
        // Coverage from distance in pixels gives one-pixel anti-aliased edges.
        const coverage = Math.min(1, Math.max(0, 0.5 - distance(u, v) / pixel));
        if (coverage === 0) continue;
        r = colour[0] * coverage + r * (1 - coverage);
        g = colour[1] * coverage + g * (1 - coverage);
        b = colour[2] * coverage + b * (1 - coverage);
        a = coverage + a * (1 - coverage);
      }
      const o = (py * size + px) * 4;
      // Colours above were accumulated premultiplied; PNG stores straight alpha.
      rgba[o] = a > 0 ? Math.round(r / a) : 0;
      rgba[o + 1] = a > 0 ? Math.round(g / a) : 0;
      rgba[o + 2] = a > 0 ? Math.round(b / a) : 0;
      rgba[o + 3] = Math.round(a * 255);
    }
  }
  return rgba;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type, data) {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'ascii');
  Buffer.from(data).copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

export function encodePng(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // colour type RGBA
  const stride = size * 4;
  const scanlines = Buffer.alloc((stride + 1) * size);
  for (let y = 0; y < size; y++) {
    scanlines[y * (stride + 1)] = 0; // filter: none
    Buffer.from(rgba.buffer, y * stride, stride).copy(scanlines, y * (stride + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(scanlines, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

const hex = (rgb) => `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;

function faviconSvg() {
  const caps = FADER_COLUMNS.map((column, i) => {
    const slot = `<rect x="${(column - 0.018) * 64}" y="${0.23 * 64}" width="${0.036 * 64}" height="${0.54 * 64}" rx="1.2" fill="${hex(SLOT)}"/>`;
    const cap = `<rect x="${(column - 0.075) * 64}" y="${(CAP_HEIGHTS[i] - 0.045) * 64}" width="${0.15 * 64}" height="${0.09 * 64}" rx="1.3" fill="${hex(ACCENT)}"/>`;
    return `  ${slot}\n  ${cap}`;
  }).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
  <rect width="64" height="64" rx="12.8" fill="${hex(BACKGROUND)}"/>
  <rect x="10.24" y="8.96" width="43.52" height="46.08" rx="5.12" fill="${hex(PANEL)}"/>
${caps}
</svg>
`;
}

const ICONS = [
  { file: 'icon-192.png', size: 192, fullBleed: false, glyphScale: 1 },
  { file: 'icon-512.png', size: 512, fullBleed: false, glyphScale: 1 },
  // Maskable icons get cropped to a circle of 80% diameter: keep the glyph inside it.
  { file: 'icon-maskable-512.png', size: 512, fullBleed: true, glyphScale: 0.72 },
];

mkdirSync(ICON_DIR, { recursive: true });
for (const icon of ICONS) {
  const png = encodePng(icon.size, rasterise(icon.size, iconLayers(icon)));
  writeFileSync(join(ICON_DIR, icon.file), png);
  console.log(`wrote public/icons/${icon.file} (${icon.size}x${icon.size}, ${png.length} bytes)`);
}
writeFileSync(join(ICON_DIR, 'icon.svg'), faviconSvg());
console.log('wrote public/icons/icon.svg');

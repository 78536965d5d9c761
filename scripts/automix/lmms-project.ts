// Shortening an lmms project to a window of N seconds, so long songs render in minutes rather than
// half an hour (`lmms rendertracks` plays the whole song once per track). Works on the project XML
// (`lmms dump` of an .mmpz) with a tag-level scan; attribute values may contain '>' (automation
// names do), so tags are matched attribute by attribute.
//
// The window is the stretch of the arrangement where the most clip time overlaps (where most
// tracks play), bar-aligned. Song-level clips outside it are removed, the rest shifted to start at
// 0 and cut at its end; a clip that crosses the window start restarts there (its first notes play
// instead of its middle ones: the same instrument at the musician's levels, in a different order).
// Beat/bassline pattern definitions are left as they are: their positions count pattern slots.

const CLIP_TAGS = ['pattern', 'bbtco', 'sampletco', 'automationpattern'] as const;
const TAG = new RegExp(`<(${CLIP_TAGS.join('|')})((?:\\s+[\\w:-]+="[^"]*")*)\\s*(/?)>`, 'g');
const ATTR = /([\w:-]+)="([^"]*)"/g;
const CONTAINER_OPEN = /<trackcontainer((?:\s+[\w:-]+="[^"]*")*)\s*>/g;

/** lmms ticks: 48 per quarter note, 192 per 4/4 bar. */
export const TICKS_PER_QUARTER = 48;

interface Clip {
  start: number;
  openEnd: number;
  end: number;
  pos: number;
  len: number;
}

function clipsOf(xml: string, from = 0, to = xml.length): Clip[] {
  const out: Clip[] = [];
  const segment = xml.slice(from, to);
  for (const m of segment.matchAll(TAG)) {
    const attrs = new Map<string, string>();
    for (const a of m[2].matchAll(ATTR)) attrs.set(a[1], a[2]);
    const start = from + m.index!;
    const openEnd = start + m[0].length;
    const close = `</${m[1]}>`;
    const closeAt = m[3] === '/' ? -1 : xml.indexOf(close, openEnd);
    if (m[3] !== '/' && closeAt < 0) throw new Error(`unclosed <${m[1]}> at ${start}`);
    out.push({ start, openEnd, end: closeAt < 0 ? openEnd : closeAt + close.length, pos: Number(attrs.get('pos') ?? 0), len: Number(attrs.get('len') ?? 0) });
  }
  return out;
}

/** Character ranges of beat/bassline containers, whose clips are pattern slots, not song time. */
function bbRanges(xml: string): [number, number][] {
  // A beat/bassline container holds tracks but no other container, so its end is the next close.
  const ranges: [number, number][] = [];
  for (const m of xml.matchAll(CONTAINER_OPEN)) {
    if (!/\stype="bbtrackcontainer"/.test(m[1])) continue;
    const close = xml.indexOf('</trackcontainer>', m.index!);
    ranges.push([m.index!, close < 0 ? xml.length : close]);
  }
  return ranges;
}

function songClips(xml: string): Clip[] {
  const bb = bbRanges(xml);
  return clipsOf(xml).filter((c) => !bb.some(([a, b]) => c.start >= a && c.start < b));
}

function headAttr(xml: string, name: string, fallback: number): number {
  const head = /<head((?:\s+[\w:-]+="[^"]*")*)\s*\/?>/.exec(xml);
  const v = head ? new RegExp(`\\s${name}="([\\d.]+)"`).exec(head[1]) : null;
  return v ? Number(v[1]) : fallback;
}

const ticksPerSecond = (xml: string): number => (headAttr(xml, 'bpm', 140) / 60) * TICKS_PER_QUARTER;

/** Length of the arrangement in seconds (at the project's base tempo). */
export function projectSeconds(xml: string): number {
  return Math.max(0, ...songClips(xml).map((c) => c.pos + c.len)) / ticksPerSecond(xml);
}

/**
 * The project cut to a window of `seconds`, or null when the song is not longer. `startSeconds`
 * reports where the window begins in the original arrangement.
 */
export function windowProject(xml: string, seconds: number): { xml: string; startSeconds: number } | null {
  const clips = songClips(xml);
  const songEnd = Math.max(0, ...clips.map((c) => c.pos + c.len));
  const span = Math.round(seconds * ticksPerSecond(xml));
  if (songEnd <= span) return null;
  const bar = (4 * TICKS_PER_QUARTER * headAttr(xml, 'timesig_numerator', 4)) / headAttr(xml, 'timesig_denominator', 4);
  let best = 0, bestCover = -1;
  for (let s = 0; s + span <= songEnd + bar; s += bar) {
    let cover = 0;
    for (const c of clips) cover += Math.max(0, Math.min(c.pos + c.len, s + span) - Math.max(c.pos, s));
    if (cover > bestCover) {
      bestCover = cover;
      best = s;
    }
  }
  const from = best, to = best + span;
  let out = '';
  let at = 0;
  for (const c of clips) {
    if (c.start < at) continue;
    out += xml.slice(at, c.start);
    at = c.end;
    if (c.pos + c.len <= from || c.pos >= to) continue;
    const pos = Math.max(c.pos, from) - from;
    const len = Math.min(c.pos + c.len, to) - Math.max(c.pos, from);
    const open = xml.slice(c.start, c.openEnd).replace(/(\spos=")\d+(")/, `$1${pos}$2`).replace(/(\slen=")\d+(")/, `$1${len}$2`);
    out += open + xml.slice(c.openEnd, c.end);
  }
  return { xml: out + xml.slice(at), startSeconds: from / ticksPerSecond(xml) };
}

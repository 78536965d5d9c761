// Shortening an lmms project to its first N seconds, so long songs render in minutes rather than
// half an hour (`lmms rendertracks` plays the whole song once per track). Works on the project XML
// (`lmms dump` of an .mmpz) with a tag-level scan; attribute values may contain '>' (automation
// names do), so tags are matched attribute by attribute.

/** Song-editor clips: their pos/len are in ticks (48 per quarter note). */
const CLIP_TAGS = ['pattern', 'bbtco', 'sampletco', 'automationpattern'] as const;
const TAG = new RegExp(`<(${CLIP_TAGS.join('|')})((?:\\s+[\\w:-]+="[^"]*")*)\\s*(/?)>`, 'g');
const ATTR = /([\w:-]+)="([^"]*)"/g;

export const TICKS_PER_QUARTER = 48;

interface Clip {
  tag: string;
  start: number;
  /** End of the element (after its closing tag). */
  end: number;
  attrs: Map<string, string>;
  selfClosing: boolean;
  openEnd: number;
}

function clips(xml: string): Clip[] {
  const out: Clip[] = [];
  for (const m of xml.matchAll(TAG)) {
    const attrs = new Map<string, string>();
    for (const a of m[2].matchAll(ATTR)) attrs.set(a[1], a[2]);
    const start = m.index!;
    const openEnd = start + m[0].length;
    const selfClosing = m[3] === '/';
    const close = `</${m[1]}>`;
    const end = selfClosing ? openEnd : xml.indexOf(close, openEnd) + close.length;
    if (!selfClosing && end < close.length) throw new Error(`unclosed <${m[1]}> at ${start}`);
    out.push({ tag: m[1], start, end, attrs, selfClosing, openEnd });
  }
  return out;
}

export function projectTempo(xml: string): number {
  const head = /<head((?:\s+[\w:-]+="[^"]*")*)\s*\/?>/.exec(xml);
  const bpm = head ? /\sbpm="([\d.]+)"/.exec(head[1]) : null;
  return bpm ? Number(bpm[1]) : 140;
}

const clipEnd = (c: Clip): number => Number(c.attrs.get('pos') ?? 0) + Number(c.attrs.get('len') ?? 0);

/** Length of the arrangement in seconds (at the project's base tempo). */
export function projectSeconds(xml: string): number {
  const ticks = Math.max(0, ...clips(xml).map(clipEnd));
  return ticks / ((projectTempo(xml) / 60) * TICKS_PER_QUARTER);
}

/**
 * The project with every clip that starts after `seconds` removed and every clip that crosses it
 * cut there. Returns null when the song is not longer, or when beat/bassline patterns (whose
 * positions count pattern slots, not song time) reach past the cut, where cutting is unsafe.
 */
export function capProject(xml: string, seconds: number): string | null {
  const capTick = Math.round(seconds * (projectTempo(xml) / 60) * TICKS_PER_QUARTER);
  const all = clips(xml);
  if (Math.max(0, ...all.map(clipEnd)) <= capTick) return null;
  // Clips inside a beat/bassline container must all lie before the cut.
  for (const m of xml.matchAll(/<trackcontainer(?:\s+[\w:-]+="[^"]*")*\s+type="bbtrackcontainer"[^]*?<\/trackcontainer>/g)) {
    if (clips(m[0]).some((c) => clipEnd(c) > capTick)) return null;
  }
  let out = '';
  let at = 0;
  for (const c of all) {
    if (c.start < at) continue;
    const pos = Number(c.attrs.get('pos') ?? 0);
    if (pos >= capTick) {
      out += xml.slice(at, c.start);
      at = c.end;
    } else if (clipEnd(c) > capTick) {
      const open = xml.slice(c.start, c.openEnd).replace(/(\slen=")\d+(")/, `$1${capTick - pos}$2`);
      out += xml.slice(at, c.start) + open;
      at = c.openEnd;
    }
  }
  return out + xml.slice(at);
}

// The studio's orchestration in Node: imports decoded by the real decode worker code, stored in IndexedDB, handed to
// the engine, rendered by the real render workers (split over two), removed, and restored by a reload.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeDb } from '../../src/storage/db';
import { loadSession } from '../../src/storage/sessions';
import { freshApp, sineWavFile, testStudio } from './state-harness';

const RATE = 44100;

const wavFile = (name: string, freq: number, amp: number, seconds = 1) => sineWavFile(name, { freq, amp, seconds });

beforeEach(freshApp);
afterEach(async () => {
  await closeDb();
});

describe('Studio (state)', () => {
  it('imports files through the decode workers, stores them, feeds the engine and renders the mix on both render workers', async () => {
    const { studio, started, sent } = testStudio();
    await studio.newSession('State test');
    await studio.importFiles([wavFile('kick.wav', 60, 0.5), wavFile('pad.wav', 440, 0.25), new File([new Uint8Array([1, 2, 3])], 'broken.wav')]);

    expect(studio.session!.tracks.map((t) => t.name)).toEqual(['kick', 'pad']);
    expect(studio.notices.some((n) => n.subject === 'broken.wav' && n.level === 'error')).toBe(true);
    const stored = await loadSession(studio.session!.id);
    expect(stored!.tracks.map((t) => t.name)).toEqual(['kick', 'pad']);
    expect(sent.filter((m) => m.type === 'addTrack')).toHaveLength(2);
    expect(started.get('decode')).toBe(2);

    const mix = await studio.renderMix();
    expect(mix.left.length).toBe(RATE);
    // Two sines at −6 and −12 dBFS, unity faders: the peak is their sum's, within the limiter's ceiling.
    expect(mix.peakDb).toBeGreaterThan(-4);
    expect(mix.peakDb).toBeLessThan(0);
    expect(started.get('render')).toBe(2);

    // A fader down on the kick is heard in the next render.
    const kick = studio.session!.tracks[0].id;
    studio.session!.mix.tracks[kick].gainDb = -60;
    studio.mixChanged(structuredClone(studio.session!.mix));
    const quieter = await studio.renderMix();
    expect(quieter.rmsDb).toBeLessThan(mix.rmsDb - 3);
    await studio.saveNow();
    await studio.dispose();
  });

  it('removes a track from storage and the engine, and a reload restores the session as saved', async () => {
    const { studio: a, sent: first } = testStudio();
    await a.newSession('Reload test');
    await a.importFiles([wavFile('one.wav', 220, 0.3), wavFile('two.wav', 330, 0.3), wavFile('three.wav', 550, 0.3)]);
    const two = a.session!.tracks.find((t) => t.name === 'two')!.id;
    await a.removeTrack(two);
    expect(first.some((m) => m.type === 'removeTrack' && m.id === two)).toBe(true);
    a.rename('Renamed');
    await a.saveNow();
    const id = a.session!.id;
    await a.dispose();

    const { studio: b, sent: second } = testStudio();
    await b.init('/never-fetched/');
    expect(b.session!.id).toBe(id);
    expect(b.session!.name).toBe('Renamed');
    expect(b.session!.tracks.map((t) => t.name)).toEqual(['one', 'three']);
    expect(second.filter((m) => m.type === 'addTrack')).toHaveLength(2);
    expect(b.notices.filter((n) => n.level === 'error')).toEqual([]);
    await b.dispose();
  });

  it('adds app-made audio resampled to the session rate as a track of a new session', async () => {
    const { studio } = testStudio();
    await studio.newSession('Old');
    const old = studio.session!.id;
    const tone = Float32Array.from({ length: 32000 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / 32000));
    await studio.addAudio([{ name: 'generated', channels: [tone], sampleRate: 32000 }], { sessionName: 'Generated' });
    expect(studio.session!.id).not.toBe(old);
    expect(studio.session!.name).toBe('Generated');
    const t = studio.session!.tracks[0];
    expect(t.name).toBe('generated');
    expect(t.sourceRate).toBe(32000);
    expect(Math.abs(t.length - RATE)).toBeLessThanOrEqual(1);
    expect((await loadSession(studio.session!.id))!.tracks).toHaveLength(1);
    await studio.dispose();
  });
});

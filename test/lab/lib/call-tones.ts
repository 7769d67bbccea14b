// Tones heard in a call's recordings: Goertzel on the steady part of a WAV file (ours from the
// `file:` playback device, baresip's from its sndfile module's -dec.wav/-enc.wav), judged by
// frequency, level against what was sent, purity, and the listener's own tone not looping back.
// Shared by the lab's call tests so one-way audio fails them all the same way.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeWav, goertzelAmplitude } from '../../../src/media/index.js';
import { readWav, type Baresip } from './baresip.js';
import { waitFor } from './process.js';

export type Recording = { readonly samples: Int16Array; readonly rateHz: number };

/** A tone as one side heard it: amplitude (peak units) at its frequency, and at the listener's own. */
export interface Heard {
  readonly hz: number;
  readonly amplitude: number;
  readonly ownAmplitude: number;
  /** The tone's share of the recording's power: 1 for a clean sine, lower with gaps or noise. */
  readonly purity: number;
  readonly seconds: number;
}

export const dbfs = (amplitude: number): number => 20 * Math.log10(Math.max(amplitude, 1) / 32768);

/** Goertzel on the steady part of a recording: without the first half second (jitter buffers filling) and the last 300 ms (hang-up). */
export function listen(rec: Recording, hz: number, ownHz: number): Heard {
  const part = rec.samples.subarray(Math.floor(rec.rateHz / 2), Math.max(Math.floor(rec.rateHz / 2), rec.samples.length - Math.floor((rec.rateHz * 3) / 10)));
  let energy = 0;
  for (const x of part) energy += x * x;
  const amplitude = goertzelAmplitude(part, hz, rec.rateHz);
  const meanSquare = part.length > 0 ? energy / part.length : 0;
  return {
    hz, amplitude, ownAmplitude: goertzelAmplitude(part, ownHz, rec.rateHz),
    purity: meanSquare > 0 ? (amplitude * amplitude) / 2 / meanSquare : 0, seconds: part.length / rec.rateHz,
  };
}

/** The tone is there for at least a second, within 3 dB of the level it was sent at, clean, and not our own one looped back. */
export const detected = (h: Heard, sentAmplitude: number): boolean =>
  h.seconds >= 1 && Math.abs(dbfs(h.amplitude) - dbfs(sentAmplitude)) <= 3 && h.purity >= 0.8 && h.ownAmplitude * 20 < h.amplitude;

export const heardText = (h: Heard, sentAmplitude: number): string => (detected(h, sentAmplitude) ? dbfs(h.amplitude).toFixed(1) : 'none');
export const tonesText = (hz: number, a: Heard, b: Heard, sentAmplitude: number): string => `${hz} Hz ${heardText(a, sentAmplitude)}/${heardText(b, sentAmplitude)}`;

export function assertHeard(what: string, h: Heard, sentAmplitude: number): void {
  const text = `${what}: ${h.hz} Hz at ${dbfs(h.amplitude).toFixed(1)} dBFS (sent at ${dbfs(sentAmplitude).toFixed(1)}), purity ${h.purity.toFixed(2)}, own tone ${dbfs(h.ownAmplitude).toFixed(1)} dBFS, ${h.seconds.toFixed(2)} s`;
  assert.ok(detected(h, sentAmplitude), text);
}

/** Our speaker file, once the playback device patched its header at the end of the call (an empty file is final as written). */
export async function ourRecording(path: string): Promise<Recording> {
  await waitFor(`${path} to be closed`, () => {
    const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    return size >= 44 && readFileSync(path).readUInt32LE(4) === size - 8;
  }, 5000);
  const wav = decodeWav(readFileSync(path));
  return { samples: wav.samples, rateHz: wav.sampleRateHz };
}

export const decRecordings = (b: Baresip): string[] => readdirSync(b.dir).filter((n) => n.endsWith('-dec.wav'));

/** baresip's recordings of its newest call (sndfile's dump-<time>-dec.wav and -enc.wav), once closed. */
export async function baresipRecording(b: Baresip, known: readonly string[]): Promise<{ heard: Recording; sent: Recording }> {
  let dec: string | undefined;
  const closed = (n: string): boolean => (statSync(join(b.dir, n), { throwIfNoEntry: false })?.size ?? 0) > 44 && readFileSync(join(b.dir, n)).readUInt32LE(4) > 36;
  await waitFor('baresip\'s recordings of the call, closed', () => {
    dec = decRecordings(b).find((n) => !known.includes(n));
    return dec !== undefined && closed(dec) && closed(dec.replace(/-dec\.wav$/, '-enc.wav'));
  }, 5000);
  const read = (n: string): Recording => {
    const wav = readWav(readFileSync(join(b.dir, n)));
    assert.ok(wav, `${n} is a WAV file`);
    return wav;
  };
  return { heard: read(dec as string), sent: read((dec as string).replace(/-dec\.wav$/, '-enc.wav')) };
}

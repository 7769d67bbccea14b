// The rate a call opens its microphone at. The codec prefers one (8 kHz for G.711, 16 kHz for
// the wideband codecs) and the pipeline resamples whatever the device gives, so any device can
// run at either; a WAV file capture cannot (its samples are what they are), so it runs at the
// file's own rate. Reading that needs only the header, read once when the call's audio starts.
import { closeSync, openSync, readSync } from 'node:fs';
import { parseAudioSpec } from './audio-spec.js';
import type { AudioSampleRateHz } from './audio-types.js';

/** Enough of a WAV file to find its fmt chunk behind a few others (LIST, fact). */
const HEADER_PROBE_BYTES = 4096;

/** `preferredHz`, or the rate of the WAV file a `file:` spec names when that is 8 or 16 kHz. */
export function captureRateFor(spec: string, preferredHz: AudioSampleRateHz): AudioSampleRateHz {
  let path: string;
  try {
    const parsed = parseAudioSpec(spec, 'capture');
    if (parsed.kind !== 'file') return preferredHz;
    path = parsed.path;
  } catch {
    return preferredHz; // the device layer reports a bad spec when it is opened
  }
  const rate = wavSampleRate(path);
  return rate === 8000 || rate === 16000 ? rate : preferredHz;
}

/** The sample rate in a RIFF/WAVE file's fmt chunk; undefined if the file cannot be read or is not WAV. */
function wavSampleRate(path: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(HEADER_PROBE_BYTES);
    const n = readSync(fd, buf, 0, buf.length, 0);
    if (n < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') return undefined;
    for (let at = 12; at + 16 <= n;) {
      const size = buf.readUInt32LE(at + 4);
      if (buf.toString('latin1', at, at + 4) === 'fmt ') return at + 16 <= n ? buf.readUInt32LE(at + 12) : undefined;
      at += 8 + size + (size % 2);
    }
    return undefined;
  } catch {
    return undefined; // missing or unreadable: the capture's start() says why
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

// A WAV file microphone runs at the file's own rate; every other device at the codec's.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { captureRateFor, encodeWav } from '../../../src/media/index.js';
import { tempDir } from '../../helpers/tmp.js';

test('a file: capture opens at the WAV file\'s rate, whatever the codec prefers', () => {
  const dir = tempDir();
  const at8k = join(dir, 'eight.wav');
  const at16k = join(dir, 'sixteen.wav');
  writeFileSync(at8k, encodeWav(new Int16Array(800), 8000));
  writeFileSync(at16k, encodeWav(new Int16Array(1600), 16000));
  assert.equal(captureRateFor(`file:${at8k}`, 16000), 8000);
  assert.equal(captureRateFor(`file:${at16k}`, 8000), 16000);
});

test('other devices, and files that are missing, not WAV or at another rate, take the preferred rate', () => {
  const dir = tempDir();
  const odd = join(dir, 'cd.wav');
  writeFileSync(odd, encodeWav(new Int16Array(441), 44100));
  const junk = join(dir, 'junk.wav');
  writeFileSync(junk, Buffer.from('RIFF\x10\x00\x00\x00WAVEfmt \xff\xff\xff\x7f', 'latin1'));
  for (const spec of ['alsa:default', 'tone:1000', 'null', `file:${odd}`, `file:${join(dir, 'missing.wav')}`, `file:${junk}`, 'bogus:spec']) {
    assert.equal(captureRateFor(spec, 16000), 16000, spec);
    assert.equal(captureRateFor(spec, 8000), 8000, spec);
  }
});

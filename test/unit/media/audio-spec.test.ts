// Device spec strings from the board definition: strict parsing with typed errors, and the
// factories picking the backend each spec names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AlsaCapture, AlsaPlayback } from '../../../src/media/audio-alsa.js';
import { WavFilePlayback } from '../../../src/media/audio-file.js';
import { NullPlayback, PacedCapture } from '../../../src/media/audio-synthetic.js';
import { AudioSpecError, openCapture, openPlayback, parseAudioSpec, type AudioSpecErrorCode } from '../../../src/media/index.js';

function isSpecError(code: AudioSpecErrorCode): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof AudioSpecError, `expected an AudioSpecError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

test('parses each backend', () => {
  assert.deepEqual(parseAudioSpec('alsa:plughw:CARD=Device', 'capture'), { kind: 'alsa', pcm: 'plughw:CARD=Device' });
  assert.deepEqual(parseAudioSpec('alsa:default', 'playback'), { kind: 'alsa', pcm: 'default' });
  assert.deepEqual(parseAudioSpec('alsa:plughw:CARD=1,DEV=0', 'playback'), { kind: 'alsa', pcm: 'plughw:CARD=1,DEV=0' });
  assert.deepEqual(parseAudioSpec('file:/var/lib/phone/ring.wav', 'capture'), { kind: 'file', path: '/var/lib/phone/ring.wav' });
  assert.deepEqual(parseAudioSpec('file:rel/dir:with:colons.WAV', 'playback'), { kind: 'file', path: 'rel/dir:with:colons.WAV' });
  assert.deepEqual(parseAudioSpec('tone:1000', 'capture'), { kind: 'tone', frequencyHz: 1000 });
  assert.deepEqual(parseAudioSpec('tone:697.5', 'capture'), { kind: 'tone', frequencyHz: 697.5 });
  assert.deepEqual(parseAudioSpec('null', 'capture'), { kind: 'null' });
});

test('rejects unknown backends, naming the ones that exist', () => {
  for (const spec of ['', 'pulse:default', 'ALSA:default', 'NULL', 'null:', 'nul', ' alsa:default', 'x'.repeat(2000)]) {
    assert.throws(() => parseAudioSpec(spec, 'capture'), isSpecError('unknown-backend'), JSON.stringify(spec.slice(0, 20)));
  }
  assert.throws(() => parseAudioSpec('oss:/dev/dsp', 'capture'), /expected alsa:<pcm>, file:<path.wav>, tone:<Hz> or null/);
});

test('rejects an empty or malformed ALSA PCM name', () => {
  assert.throws(() => parseAudioSpec('alsa:', 'capture'), isSpecError('empty-pcm'));
  assert.throws(() => parseAudioSpec('alsa', 'capture'), isSpecError('empty-pcm'));
  for (const pcm of ['plughw:CARD=My Device', 'default\n', '-Dhw', 'hw;rm', 'x'.repeat(300)]) {
    assert.throws(() => parseAudioSpec(`alsa:${pcm}`, 'capture'), isSpecError('bad-pcm'), pcm);
  }
});

test('rejects an empty path, a path that is not .wav, and control characters', () => {
  assert.throws(() => parseAudioSpec('file:', 'capture'), isSpecError('empty-path'));
  assert.throws(() => parseAudioSpec('file', 'playback'), isSpecError('empty-path'));
  assert.throws(() => parseAudioSpec('file:/tmp/x.mp3', 'capture'), isSpecError('bad-path'));
  assert.throws(() => parseAudioSpec('file:/tmp/a\nb.wav', 'capture'), isSpecError('bad-path'));
});

test('rejects a bad tone frequency, and a tone as a playback device', () => {
  for (const f of ['', 'abc', '-5', '0', '0.0', '1e3', '1000Hz', ' 1000', '0x10', 'NaN', 'Infinity', '100000']) {
    assert.throws(() => parseAudioSpec(`tone:${f}`, 'capture'), isSpecError('bad-frequency'), f);
  }
  assert.throws(() => parseAudioSpec('tone', 'capture'), isSpecError('bad-frequency'));
  assert.throws(() => parseAudioSpec('tone:1000', 'playback'), isSpecError('not-for-playback'));
  assert.throws(() => openPlayback('tone:1000', { sampleRateHz: 8000 }), isSpecError('not-for-playback'));
});

test('a tone above the Nyquist frequency of the device rate is a bad frequency when the device opens', () => {
  assert.throws(() => openCapture('tone:5000', { sampleRateHz: 8000 }), isSpecError('bad-frequency'));
  assert.ok(openCapture('tone:5000', { sampleRateHz: 16000 }) instanceof PacedCapture);
});

test('the factories build the backend each spec names, and only at 8 or 16 kHz', async () => {
  assert.ok(openCapture('alsa:default', { sampleRateHz: 8000 }) instanceof AlsaCapture);
  assert.ok(openCapture('file:/nonexistent.wav', { sampleRateHz: 8000 }) instanceof PacedCapture);
  assert.ok(openCapture('null', { sampleRateHz: 16000 }) instanceof PacedCapture);
  assert.ok(openPlayback('alsa:default', { sampleRateHz: 16000 }) instanceof AlsaPlayback);
  assert.ok(openPlayback('file:/nonexistent/out.wav', { sampleRateHz: 8000 }) instanceof WavFilePlayback);
  assert.ok(openPlayback('null', { sampleRateHz: 8000 }) instanceof NullPlayback);
  assert.equal(openCapture('null', { sampleRateHz: 16000 }).samplesPerFrame, 160);
  assert.equal(openPlayback('null', { sampleRateHz: 8000 }).samplesPerFrame, 80);
  assert.throws(() => openCapture('null', { sampleRateHz: 44100 as 8000 }), RangeError);
  assert.throws(() => openPlayback('null', { sampleRateHz: 48000 as 16000 }), RangeError);
});

// The WAV reader and writer: a canonical header, round trips through memory and through the
// file: backend, and typed errors for everything that is not 16-bit mono PCM.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { WavFilePlayback } from '../../../src/media/audio-file.js';
import { pcmToBytes } from '../../../src/media/audio-frame-cutter.js';
import { WAV_HEADER_BYTES, WavError, decodeWav, encodeWav, encodeWavHeader, type WavErrorCode } from '../../../src/media/audio-wav.js';
import { tempDir } from '../../helpers/tmp.js';

const dir = tempDir('dpa-wav-');

function ramp(n: number): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => (i * 1021) % 30000 - 15000);
}

function isWavError(code: WavErrorCode): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof WavError, `expected a WavError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

/** A RIFF file built from chunks, for the shapes encodeWav never writes. */
function riff(chunks: [string, Uint8Array][], form = 'WAVE'): Buffer {
  const parts = chunks.map(([id, body]) => {
    const head = Buffer.alloc(8);
    head.write(id, 0, 'latin1');
    head.writeUInt32LE(body.length, 4);
    return Buffer.concat([head, body, body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
  });
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(4 + body.length, 4);
  head.write(form, 8, 'latin1');
  return Buffer.concat([head, body]);
}

function fmt(o: { tag?: number; channels?: number; rate?: number; bits?: number; byteRate?: number; align?: number }): Buffer {
  const b = Buffer.alloc(16);
  const channels = o.channels ?? 1;
  const bits = o.bits ?? 16;
  const rate = o.rate ?? 8000;
  b.writeUInt16LE(o.tag ?? 1, 0);
  b.writeUInt16LE(channels, 2);
  b.writeUInt32LE(rate, 4);
  b.writeUInt32LE(o.byteRate ?? (rate * channels * bits) / 8, 8);
  b.writeUInt16LE(o.align ?? (channels * bits) / 8, 12);
  b.writeUInt16LE(bits, 14);
  return b;
}

test('the header names RIFF/WAVE, PCM, mono, the rate, byte rate, block align, 16 bits and both sizes', () => {
  const h = encodeWavHeader(16000, 3200);
  assert.equal(h.length, WAV_HEADER_BYTES);
  assert.equal(h.toString('latin1', 0, 4), 'RIFF');
  assert.equal(h.readUInt32LE(4), 36 + 3200);
  assert.equal(h.toString('latin1', 8, 16), 'WAVEfmt ');
  assert.equal(h.readUInt32LE(16), 16);
  assert.equal(h.readUInt16LE(20), 1);
  assert.equal(h.readUInt16LE(22), 1);
  assert.equal(h.readUInt32LE(24), 16000);
  assert.equal(h.readUInt32LE(28), 32000);
  assert.equal(h.readUInt16LE(32), 2);
  assert.equal(h.readUInt16LE(34), 16);
  assert.equal(h.toString('latin1', 36, 40), 'data');
  assert.equal(h.readUInt32LE(40), 3200);
});

test('encode then decode gives back the rate and every sample', () => {
  for (const rate of [8000, 16000]) {
    const samples = ramp(1234);
    const wav = decodeWav(encodeWav(samples, rate));
    assert.equal(wav.sampleRateHz, rate);
    assert.deepEqual([...wav.samples], [...samples]);
  }
  assert.equal(decodeWav(encodeWav(new Int16Array(0), 8000)).samples.length, 0);
});

test('other chunks (LIST, odd-sized with a pad byte) are skipped, and WAVE_FORMAT_EXTENSIBLE PCM is accepted', () => {
  const data = pcmToBytes(Int16Array.of(5, -5, 7));
  const wav = decodeWav(riff([['fmt ', fmt({})], ['LIST', Buffer.from('odd')], ['data', data]]));
  assert.deepEqual([...wav.samples], [5, -5, 7]);

  const ext = Buffer.alloc(40);
  fmt({ tag: 0xfffe }).copy(ext, 0);
  ext.writeUInt16LE(22, 16); // cbSize
  ext.writeUInt16LE(16, 18); // valid bits
  ext.writeUInt16LE(1, 24); // sub-format GUID starts with WAVE_FORMAT_PCM
  assert.deepEqual([...decodeWav(riff([['fmt ', ext], ['data', data]])).samples], [5, -5, 7]);
});

test('garbage, other RIFF forms and truncated files are rejected with typed errors', () => {
  const good = encodeWav(ramp(100), 8000);
  assert.throws(() => decodeWav(Buffer.from('this is not a wave file at all')), isWavError('not-riff'));
  assert.throws(() => decodeWav(riff([['avih', Buffer.alloc(8)]], 'AVI ')), isWavError('not-wave'));
  assert.throws(() => decodeWav(new Uint8Array(0)), isWavError('truncated'));
  assert.throws(() => decodeWav(good.subarray(0, 30)), isWavError('truncated'));
  assert.throws(() => decodeWav(good.subarray(0, good.length - 10)), isWavError('truncated'));
  const lying = Buffer.from(good);
  lying.writeUInt32LE(10_000, 40); // data size past the end, RIFF size left intact
  assert.throws(() => decodeWav(lying), isWavError('truncated'));
  assert.throws(() => decodeWav(riff([['fmt ', fmt({})], ['data', Buffer.alloc(3)]])), isWavError('truncated'));
});

test('formats other than 16-bit mono PCM are refused with a message naming what the file is', () => {
  const data = ['data', Buffer.alloc(8)] as [string, Uint8Array];
  assert.throws(() => decodeWav(riff([['fmt ', fmt({ channels: 2 })], data])), (err) => isWavError('unsupported-format')(err) && /2-channel/.test((err as Error).message));
  assert.throws(() => decodeWav(riff([['fmt ', fmt({ bits: 8 })], data])), isWavError('unsupported-format'));
  assert.throws(() => decodeWav(riff([['fmt ', fmt({ tag: 3, bits: 32 })], data])), (err) => isWavError('unsupported-format')(err) && /0x0003/.test((err as Error).message));
  assert.throws(() => decodeWav(riff([['fmt ', fmt({ tag: 7, bits: 8 })], data])), isWavError('unsupported-format')); // µ-law
  assert.throws(() => decodeWav(riff([['fmt ', fmt({ byteRate: 1234 })], data])), isWavError('bad-fmt'));
  assert.throws(() => decodeWav(riff([['fmt ', Buffer.alloc(10)], data])), isWavError('bad-fmt'));
  assert.throws(() => decodeWav(riff([data])), isWavError('missing-fmt'));
  assert.throws(() => decodeWav(riff([['fmt ', fmt({})]])), isWavError('missing-data'));
  assert.throws(() => decodeWav(encodeWav(ramp(1000), 8000), 1000), isWavError('too-large'));
});

test('the file: playback writes a WAV whose header is patched with the final sizes on close', async () => {
  const path = join(dir, 'out-16k.wav');
  const playback = new WavFilePlayback({ path, sampleRateHz: 16000, maxQueuedMs: 1000 });
  await playback.start();
  const written = ramp(160 * 25);
  for (let i = 0; i < 25; i++) playback.write(written.subarray(i * 160, (i + 1) * 160));
  await playback.close();
  await playback.close();
  const bytes = readFileSync(path);
  assert.equal(bytes.length, WAV_HEADER_BYTES + 25 * 320);
  assert.equal(bytes.readUInt32LE(4), 36 + 25 * 320);
  assert.equal(bytes.readUInt32LE(40), 25 * 320);
  const wav = decodeWav(bytes);
  assert.equal(wav.sampleRateHz, 16000);
  assert.deepEqual([...wav.samples], [...written]);
  assert.deepEqual(playback.stats(), { frames: 25, dropped: 0, restarts: 0, underruns: 0 });
  playback.write(new Int16Array(160)); // after close: ignored
  assert.equal(decodeWav(readFileSync(path)).samples.length, 25 * 160);
});

test('the file: playback keeps at most 200 ms waiting, dropping the oldest frames and counting them', async () => {
  const path = join(dir, 'out-drop.wav');
  const playback = new WavFilePlayback({ path, sampleRateHz: 8000 });
  for (let i = 0; i < 30; i++) playback.write(new Int16Array(80).fill(i));
  assert.equal(playback.bufferedMs, 200);
  await playback.start();
  await playback.close();
  const wav = decodeWav(readFileSync(path));
  assert.equal(wav.samples.length, 20 * 80);
  assert.equal(wav.samples[0], 10, 'frames 0..9 were dropped');
  assert.equal(playback.stats().dropped, 10);
  assert.throws(() => playback.write(new Int16Array(160)), /80 samples/);
});

test('a file written by another tool with extra chunks reads back through decodeWav', () => {
  const path = join(dir, 'foreign.wav');
  writeFileSync(path, riff([['fmt ', fmt({ rate: 16000 })], ['fact', Buffer.alloc(4)], ['data', pcmToBytes(Int16Array.of(1, 2))]]));
  assert.deepEqual([...decodeWav(readFileSync(path)).samples], [1, 2]);
});

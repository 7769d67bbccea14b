// G.722 bit-exactness against libspandsp 0.0.6 (test/conformance/g722, see its INDEX.md): the
// sub-band ADPCM in ITU test mode (what G.722 Appendix II conformance covers) on full-scale and
// random input, and the whole codec (QMF + ADPCM) on 16 kHz audio.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { G722Decoder, G722Encoder } from '../../../src/media/index.js';
import {
  decodeLowerBand, decodeUpperBand, encodeLowerBand, encodeUpperBand, lowerBandState, upperBandState,
} from '../../../src/media/g722-adpcm.js';
import { corpus, indexHashes, sha256 } from '../../helpers/conformance.js';

const FILES = corpus('g722');

function file(name: string): Buffer {
  const b = FILES.get(name);
  assert.ok(b, `${name} in test/conformance/g722`);
  return b;
}

function int16le(b: Buffer): Int16Array {
  return Int16Array.from({ length: b.length / 2 }, (_, i) => b.readInt16LE(2 * i));
}

test('the g722 corpus is intact (sha256 as listed in INDEX.md)', () => {
  const hashes = indexHashes('g722');
  assert.equal(FILES.size, 7);
  for (const [name, bytes] of FILES) assert.equal(sha256(bytes), hashes.get(name), name);
});

test('ITU test mode: both band encoders fed word >> 1 give libspandsp’s codes for every word', () => {
  const words = int16le(file('adpcm-input.bin'));
  const expected = file('adpcm-input.spandsp-codes.bin');
  const lower = lowerBandState();
  const upper = upperBandState();
  for (let i = 0; i < words.length; i++) {
    const x = (words[i] as number) >> 1;
    const code = (encodeUpperBand(upper, x) << 6) | encodeLowerBand(lower, x);
    assert.equal(code, expected[i], `word ${i}`);
  }
});

test('ITU test mode: random codes decode to libspandsp’s lower- and upper-band signals', () => {
  const codes = file('adpcm-codes.bin');
  const expected = int16le(file('adpcm-codes.spandsp-bands.bin'));
  const lower = lowerBandState();
  const upper = upperBandState();
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i] as number;
    assert.equal(decodeLowerBand(lower, code & 0x3f) << 1, expected[2 * i], `rL at ${i}`);
    assert.equal(decodeUpperBand(upper, code >> 6) << 1, expected[2 * i + 1], `rH at ${i}`);
  }
});

test('16 kHz audio encodes to libspandsp’s G.722 stream, in one call and in 20 ms frames', () => {
  const pcm = int16le(file('qmf-input.bin'));
  const expected = new Uint8Array(file('qmf-input.spandsp.bin'));
  assert.deepEqual(new G722Encoder().encode(pcm), expected);
  const encoder = new G722Encoder();
  for (let i = 0; i < pcm.length; i += 320) {
    assert.deepEqual(encoder.encode(pcm.subarray(i, i + 320)), expected.subarray(i / 2, i / 2 + 160), `frame ${i / 320}`);
  }
});

test('that stream decodes to libspandsp’s 16 kHz output sample for sample', () => {
  const octets = new Uint8Array(file('qmf-input.spandsp.bin'));
  assert.deepEqual(new G722Decoder().decode(octets), int16le(file('qmf-input.spandsp-decoded.bin')));
});

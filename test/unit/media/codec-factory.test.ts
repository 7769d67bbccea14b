// createCodec: each SDP encoding name gives a codec with the right RTP clock and PCM rate, and
// every codec encodes and decodes one 20 ms packet through the common interface.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodecError, createCodec, decodeUlaw, encodeAlaw, type VoiceCodec } from '../../../src/media/index.js';

const CASES = [
  { name: 'PCMU', clockRateHz: 8000, sampleRateHz: 8000, octetsPer20Ms: 160 },
  { name: 'PCMA', clockRateHz: 8000, sampleRateHz: 8000, octetsPer20Ms: 160 },
  { name: 'G722', clockRateHz: 8000, sampleRateHz: 16000, octetsPer20Ms: 160 },
  { name: 'opus', clockRateHz: 48000, sampleRateHz: 16000, octetsPer20Ms: undefined },
] as const;

function tone(codec: VoiceCodec): Int16Array {
  const n = codec.samplesPerFrame(20);
  return Int16Array.from({ length: n }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 500 * i) / codec.sampleRateHz)));
}

for (const c of CASES) {
  test(`${c.name}: RTP clock ${c.clockRateHz} Hz, PCM ${c.sampleRateHz} Hz, one 20 ms packet round trip`, () => {
    const codec = createCodec(c.name);
    try {
      assert.equal(codec.name, c.name);
      assert.equal(codec.clockRateHz, c.clockRateHz);
      assert.equal(codec.sampleRateHz, c.sampleRateHz);
      assert.equal(codec.samplesPerFrame(20), c.sampleRateHz / 50);
      const payload = codec.encode(tone(codec));
      if (c.octetsPer20Ms !== undefined) assert.equal(payload.length, c.octetsPer20Ms);
      assert.equal(codec.decode(payload).length, c.sampleRateHz / 50);
    } finally {
      codec.close();
    }
    assert.throws(() => codec.encode(tone(codec)), (e: unknown) => e instanceof CodecError && e.code === 'closed');
  });
}

test('names are matched case-insensitively, as in a=rtpmap', () => {
  for (const name of ['pcmu', 'Pcma', 'g722', 'OPUS']) createCodec(name).close();
});

test('an unknown codec name is CodecError unsupported', () => {
  assert.throws(() => createCodec('G729'), (e: unknown) => e instanceof CodecError && e.code === 'unsupported' && e.codec === 'G729');
});

test('the G.711 codecs are the g711.ts tables', () => {
  const pcmu = createCodec('PCMU');
  const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(pcmu.decode(codes), decodeUlaw(codes));
  const pcma = createCodec('PCMA');
  const pcm = Int16Array.from({ length: 160 }, (_, i) => i * 409 - 32768);
  assert.deepEqual(pcma.encode(pcm), encodeAlaw(pcm));
});

test('a ptime that is not a whole number of samples is CodecError bad-frame-size', () => {
  assert.throws(() => createCodec('PCMU').samplesPerFrame(0.1), (e: unknown) => e instanceof CodecError && e.code === 'bad-frame-size');
});

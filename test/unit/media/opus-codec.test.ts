// Opus through opusscript's WASM libopus: a tone survives a round trip, bad input is a typed
// error, loss concealment continues the audio, instances do not disturb each other, and close()
// gives the WASM memory back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodecError, OpusCodec, goertzelAmplitude, opusWasmHeapBytes, type OpusSampleRateHz } from '../../../src/media/index.js';

const isCodecError = (code: string) => (e: unknown): boolean => e instanceof CodecError && e.code === code;

function toneFrame(rateHz: number, frameIndex: number, frequencyHz = 1000, amplitude = 10000): Int16Array {
  const n = rateHz / 50;
  return Int16Array.from({ length: n }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * frequencyHz * (frameIndex * n + i)) / rateHz)));
}

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** A deterministic byte source for garbage packets. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  };
}

for (const sampleRateHz of [16000, 48000] as OpusSampleRateHz[]) {
  test(`a 1 kHz tone at ${sampleRateHz} Hz keeps its frequency and level (±1 dB) through 20 ms Opus frames`, () => {
    const codec = new OpusCodec({ sampleRateHz });
    try {
      assert.equal(codec.samplesPerFrame(20), sampleRateHz / 50);
      const decoded: Int16Array[] = [];
      for (let k = 0; k < 50; k++) {
        const packet = codec.encode(toneFrame(sampleRateHz, k));
        assert.ok(packet.length > 0 && packet.length < 400, `packet ${k}: ${packet.length} octets`);
        const pcm = codec.decode(packet);
        assert.equal(pcm.length, sampleRateHz / 50);
        decoded.push(pcm);
      }
      // Skip the first 200 ms while the encoder settles; measure the rest.
      const settled = concat(decoded).subarray(sampleRateHz / 5);
      const level = goertzelAmplitude(settled, 1000, sampleRateHz) / 10000;
      assert.ok(level > 0.89 && level < 1.12, `level ${level.toFixed(3)}`);
      assert.ok(goertzelAmplitude(settled, 1500, sampleRateHz) < 100, 'no energy at 1.5 kHz');
      assert.ok(goertzelAmplitude(settled, 700, sampleRateHz) < 100, 'no energy at 700 Hz');
    } finally {
      codec.close();
    }
  });
}

test('the RTP clock is 48 kHz whatever the PCM rate (RFC 7587 §4.1)', () => {
  const codec = new OpusCodec({ sampleRateHz: 16000 });
  assert.equal(codec.clockRateHz, 48000);
  assert.equal(codec.sampleRateHz, 16000);
  codec.close();
});

test('a lower bitrate gives smaller packets', () => {
  const sizes = (bitrateBps: number): number => {
    const codec = new OpusCodec({ sampleRateHz: 16000, bitrateBps });
    let total = 0;
    for (let k = 0; k < 25; k++) total += codec.encode(toneFrame(16000, k)).length;
    codec.close();
    return total;
  };
  assert.ok(sizes(12000) < sizes(32000));
});

test('garbage payloads decode or throw CodecError invalid-payload, never anything else', () => {
  const codec = new OpusCodec();
  const next = lcg(7587);
  let rejected = 0;
  for (let k = 0; k < 1000; k++) {
    const payload = Uint8Array.from({ length: 1 + (next() % 200) }, next);
    try {
      const pcm = codec.decode(payload);
      assert.ok(pcm.length % 40 === 0 && pcm.length <= 1920, `${pcm.length} samples`); // 2.5 ms steps, ≤ 120 ms
    } catch (e) {
      assert.ok(isCodecError('invalid-payload')(e), String(e));
      rejected++;
    }
  }
  assert.ok(rejected > 0, 'some garbage is rejected');
  assert.throws(() => codec.decode(Uint8Array.of(0xff, 0xff, 0xff, 0x01)), isCodecError('invalid-payload'));
  assert.throws(() => codec.decode(new Uint8Array(0)), isCodecError('invalid-payload'));
  assert.throws(() => codec.decode(new Uint8Array(5000)), isCodecError('payload-too-large'));
  // The decoder still works afterwards.
  assert.equal(codec.decode(codec.encode(toneFrame(16000, 0))).length, 320);
  codec.close();
});

test('PCM that is not an Opus frame length is CodecError bad-frame-size', () => {
  const codec = new OpusCodec({ sampleRateHz: 48000 });
  assert.throws(() => codec.encode(new Int16Array(300)), isCodecError('bad-frame-size'));
  assert.throws(() => codec.encode(new Int16Array(5760)), isCodecError('bad-frame-size')); // 120 ms: longer than we encode
  for (const ms of [2.5, 5, 10, 20, 40, 60]) assert.ok(codec.encode(new Int16Array(48 * ms)).length > 0, `${ms} ms`);
  codec.close();
});

test('conceal continues a tone after a lost packet, and a real packet decodes normally after it', () => {
  const codec = new OpusCodec({ sampleRateHz: 48000 });
  assert.ok(codec.conceal(960).every((x) => x === 0), 'silence before any audio');
  for (let k = 0; k < 25; k++) codec.decode(codec.encode(toneFrame(48000, k)));
  const concealed = codec.conceal(960);
  assert.equal(concealed.length, 960);
  assert.ok(goertzelAmplitude(concealed, 1000, 48000) > 5000, 'the 1 kHz tone goes on through the gap');
  assert.equal(codec.decode(codec.encode(toneFrame(48000, 26))).length, 960);
  assert.throws(() => codec.conceal(0), isCodecError('bad-frame-size'));
  codec.close();
});

test('several codecs used in turn, one concealing losses, produce exactly what each produces alone', () => {
  // With opusscript's own OpusScript class, a 16 kHz instance concealing a loss overwrites another
  // instance's encoder state; ours must not.
  const alone = (rate: OpusSampleRateHz): string[] => {
    const codec = new OpusCodec({ sampleRateHz: rate });
    const packets = Array.from({ length: 20 }, (_, k) => Buffer.from(codec.encode(toneFrame(rate, k, 700))).toString('hex'));
    codec.close();
    return packets;
  };
  const rates: OpusSampleRateHz[] = [16000, 16000, 48000, 16000, 48000, 16000];
  const expected = rates.map(alone);
  const codecs = rates.map((sampleRateHz) => new OpusCodec({ sampleRateHz }));
  const got: string[][] = rates.map(() => []);
  for (let k = 0; k < 20; k++) {
    codecs.forEach((codec, i) => {
      const packet = codec.encode(toneFrame(rates[i] as number, k, 700));
      codec.decode(packet);
      if (i === 0) codec.conceal(320);
      got[i]?.push(Buffer.from(packet).toString('hex'));
    });
  }
  for (const codec of codecs) codec.close();
  assert.deepEqual(got, expected);
});

test('close frees the WASM memory: codecs opened and closed in turn never grow the heap', () => {
  // Hold codecs open until the shared WASM heap grows: that many leaked codecs would show.
  const held: OpusCodec[] = [];
  const start = opusWasmHeapBytes();
  while (opusWasmHeapBytes() === start && held.length < 5000) held.push(new OpusCodec({ sampleRateHz: 48000 }));
  assert.ok(opusWasmHeapBytes() > start, 'open codecs take heap');
  const enough = held.length;
  for (const codec of held) codec.close();

  const settled = opusWasmHeapBytes();
  for (let i = 0; i < 3 * enough; i++) {
    const codec = new OpusCodec({ sampleRateHz: 48000 });
    codec.encode(toneFrame(48000, i));
    codec.close();
  }
  assert.equal(opusWasmHeapBytes(), settled, `${3 * enough} codecs opened and closed`);
});

test('after close every call throws CodecError closed, and closing twice is harmless', () => {
  const codec = new OpusCodec();
  const packet = codec.encode(toneFrame(16000, 0));
  codec.close();
  codec.close();
  assert.throws(() => codec.encode(toneFrame(16000, 1)), isCodecError('closed'));
  assert.throws(() => codec.decode(packet), isCodecError('closed'));
  assert.throws(() => codec.conceal(320), isCodecError('closed'));
});

test('an option libopus refuses is CodecError unsupported', () => {
  assert.throws(() => new OpusCodec({ bitrateBps: -5 }), isCodecError('unsupported'));
});

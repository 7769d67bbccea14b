// What the pipeline reads from a payload without its decoder: the audio duration (G.711 and
// G.722 by length, Opus by its TOC byte, RFC 6716 §3.1) and whether a G.711 frame is quiet.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isQuietPayload, openVoiceCodec, payloadDurationMs } from '../../../src/media/audio-pipeline-codec.js';
import { encodeAlaw, encodeUlaw, opusPacketDurationMs } from '../../../src/media/index.js';

test('the duration of real Opus packets of 10 to 60 ms comes from their TOC byte', (t) => {
  const opus = openVoiceCodec('opus', 16000);
  t.after(() => opus.close());
  for (const ms of [10, 20, 40, 60]) {
    const pcm = Int16Array.from({ length: 16 * ms }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000)));
    assert.equal(payloadDurationMs('opus', opus.encode(pcm)), ms);
  }
});

test('Opus TOC: code 0 one frame, codes 1 and 2 two, code 3 the count in the next byte; too short says nothing', () => {
  // config 1 (SILK NB 20 ms), config 16 (CELT NB 2.5 ms), config 31 (CELT FB 20 ms).
  assert.equal(opusPacketDurationMs(Uint8Array.of((1 << 3) | 0)), 20);
  assert.equal(opusPacketDurationMs(Uint8Array.of((1 << 3) | 1, 0)), 40);
  assert.equal(opusPacketDurationMs(Uint8Array.of((16 << 3) | 2, 0)), 5);
  assert.equal(opusPacketDurationMs(Uint8Array.of((31 << 3) | 3, 3)), 60);
  assert.equal(opusPacketDurationMs(Uint8Array.of((31 << 3) | 3)), undefined);
  assert.equal(opusPacketDurationMs(new Uint8Array(0)), undefined);
});

test('G.711 and G.722 carry 8 octets per ms; only G.711 frames can be judged quiet', () => {
  assert.equal(payloadDurationMs('PCMU', new Uint8Array(160)), 20);
  assert.equal(payloadDurationMs('G722', new Uint8Array(240)), 30);
  const quiet = new Int16Array(160).fill(40);
  const loud = new Int16Array(160).fill(4000);
  assert.equal(isQuietPayload('PCMU', encodeUlaw(quiet)), true);
  assert.equal(isQuietPayload('PCMA', encodeAlaw(quiet)), true);
  assert.equal(isQuietPayload('PCMU', encodeUlaw(loud)), false);
  assert.equal(isQuietPayload('G722', new Uint8Array(160)), false);
  assert.equal(isQuietPayload('opus', Uint8Array.of(8)), false);
});

test('codec instances: G.711 at 8 kHz and G.722 at 16 kHz whatever the device, Opus at the device\'s rate', () => {
  for (const rate of [8000, 16000] as const) {
    const codecs = (['PCMU', 'PCMA', 'G722', 'opus'] as const).map((n) => openVoiceCodec(n, rate));
    assert.deepEqual(codecs.map((c) => [c.sampleRateHz, c.clockRateHz]), [[8000, 8000], [8000, 8000], [16000, 8000], [rate, 48000]]);
    for (const c of codecs) c.close();
  }
});

// The receive path without I/O: playout order, concealment of a loss, telephone-event packets
// beside the audio, and the frame length taken from the peer's packets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PLC_DELAY_SAMPLES, encodeTelephoneEvent, encodeUlaw } from '../../../src/media/index.js';
import { AudioReceivePath, type ReceivablePacket } from '../../../src/media/audio-pipeline-receiver.js';

const PCMU = { name: 'PCMU', payloadType: 0 } as const;
const EVENT_PT = 101;
const SSRC = 0x1234;

/** Audio packet `n` of a 20 ms stream: every sample at level (n + 1) · 1000. */
function audio(n: number, arrivalMs: number, seq = n, samples = 160): ReceivablePacket {
  return {
    payloadType: 0, sequenceNumber: seq, timestamp: 1000 + n * samples, ssrc: SSRC, marker: n === 0, arrivalMs,
    payload: encodeUlaw(new Int16Array(samples).fill((n + 1) * 1000)),
  };
}

/** The level in the middle of a played frame (the concealer delays the output by PLC_DELAY_SAMPLES). */
const levelOf = (pcm: Int16Array): number => Math.round((pcm[PLC_DELAY_SAMPLES + 40] as number) / 1000);

/**
 * Plays from 0 ms every frame until the jitter buffer's initial 60 ms after the last arrival,
 * giving each packet to the path at its arrival time. (Playing on would conceal, then count as
 * lost, the frames after the end of the stream.)
 */
function run(path: AudioReceivePath, packets: ReceivablePacket[]): Int16Array[] {
  const played: Int16Array[] = [];
  const queue = [...packets].sort((a, b) => a.arrivalMs - b.arrivalMs);
  const untilMs = (queue.at(-1)?.arrivalMs ?? 0) + 60;
  for (let now = 0; now <= untilMs; now += path.frameMs) {
    while (queue.length > 0 && (queue[0] as ReceivablePacket).arrivalMs <= now) path.receive(queue.shift() as ReceivablePacket);
    played.push(path.playout(now));
  }
  return played;
}

test('plays the frames in timestamp order although two packets arrive swapped', () => {
  const path = new AudioReceivePath({ codec: PCMU, ptimeMs: 20 });
  const packets = [0, 1, 2, 3, 4, 5, 6, 7].map((n) => audio(n, n * 20));
  [packets[3], packets[4]] = [audio(4, 60), audio(3, 78)];
  const levels = run(path, packets).map(levelOf).filter((l) => l > 0);
  assert.deepEqual(levels, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(path.stats.jitterBuffer.concealed, 0);
  assert.equal(path.stats.jitterBuffer.lost, 0);
});

test('a lost packet is concealed from the audio before it, and counted lost and concealed', () => {
  const path = new AudioReceivePath({ codec: PCMU, ptimeMs: 20 });
  const packets = [0, 1, 2, 3, 5, 6, 7].map((n) => audio(n, n * 20));
  const played = run(path, packets);
  const levels = played.map(levelOf).filter((l) => l > 0);
  // The concealer repeats the last period of frame 4 (level 4) in place of frame 5.
  assert.deepEqual(levels, [1, 2, 3, 4, 4, 6, 7, 8]);
  assert.equal(path.stats.jitterBuffer.lost, 1);
  assert.equal(path.stats.jitterBuffer.concealed, 1);
});

test('telephone-event packets report a digit once and their sequence numbers do not count as lost audio', () => {
  const path = new AudioReceivePath({ codec: PCMU, telephoneEventPt: EVENT_PT, ptimeMs: 20 });
  const digits: string[] = [];
  const event = (seq: number, duration: number, end: boolean, arrivalMs: number): ReceivablePacket => ({
    payloadType: EVENT_PT, sequenceNumber: seq, timestamp: 1000 + 3 * 160, ssrc: SSRC, marker: duration === 160, arrivalMs,
    payload: encodeTelephoneEvent({ event: 1, end, volume: 10, duration }),
  });
  // Audio 0-2 (seq 0-2), the event in place of frames 3-9 (seq 3-9), audio again from frame 10 (seq 10).
  const packets = [
    audio(0, 0), audio(1, 20), audio(2, 40),
    event(3, 160, false, 60), event(4, 320, false, 80), event(5, 480, false, 100), event(6, 640, false, 120),
    event(7, 800, true, 140), event(8, 800, true, 160), event(9, 800, true, 180),
    audio(10, 200, 10), audio(11, 220, 11), audio(12, 240, 12),
  ];
  const queue = [...packets];
  for (let now = 0; now <= 300; now += 20) {
    while (queue.length > 0 && (queue[0] as ReceivablePacket).arrivalMs <= now) {
      const digit = path.receive(queue.shift() as ReceivablePacket);
      if (digit) digits.push(digit);
    }
    path.playout(now);
  }
  assert.deepEqual(digits, ['1']);
  assert.equal(path.stats.dtmfPackets, 7);
  assert.equal(path.stats.audioPackets, 6);
  assert.equal(path.stats.jitterBuffer.lost, 0, 'the event is a gap in the audio, not a loss');
});

test('takes the frame length from the peer\'s first packet: 30 ms packets are played every 30 ms', () => {
  const path = new AudioReceivePath({ codec: PCMU, ptimeMs: 20 });
  const packets = [0, 1, 2, 3, 4, 5].map((n) => audio(n, n * 30, n, 240));
  path.receive(packets[0] as ReceivablePacket);
  assert.equal(path.frameMs, 30);
  const levels = run(path, packets.slice(1)).map(levelOf).filter((l) => l > 0);
  assert.deepEqual(levels, [1, 2, 3, 4, 5, 6]);
  assert.equal(path.stats.jitterBuffer.concealed, 0);
});

test('ignores packets of a payload type that is neither the codec nor telephone-event', () => {
  const path = new AudioReceivePath({ codec: PCMU, telephoneEventPt: EVENT_PT, ptimeMs: 20 });
  assert.equal(path.receive({ ...audio(0, 0), payloadType: 8 }), undefined);
  assert.equal(path.stats.ignored, 1);
  assert.equal(path.stats.audioPackets, 0);
});

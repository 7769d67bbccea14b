// The send path without I/O: 10 ms microphone frames joined into ptime packets, the elastic
// queue, and RFC 4733 key presses replacing the audio (dtmf-sender.ts's contract).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AudioPipelineError, decodeTelephoneEvent, encodeAlaw, encodeUlaw, type TelephoneEvent } from '../../../src/media/index.js';
import { AudioSendPath, type AudioSendAction } from '../../../src/media/audio-pipeline-sender.js';

const PCMU = { name: 'PCMU', payloadType: 0 } as const;
const EVENT_PT = 101;

/** A 10 ms frame holding one level, so a packet shows which frames it was made of. */
const frame = (level: number): Int16Array => new Int16Array(80).fill(level);
const joined = (...levels: number[]): Int16Array => {
  const out = new Int16Array(80 * levels.length);
  levels.forEach((l, i) => out.fill(l, 80 * i, 80 * (i + 1)));
  return out;
};

type Sent = Extract<AudioSendAction, { kind: 'send' }>;
const sends = (actions: AudioSendAction[]): Sent[] => actions.filter((a): a is Sent => a.kind === 'send');
const event = (a: Sent): TelephoneEvent => {
  const e = decodeTelephoneEvent(a.payload);
  assert.ok(!(e instanceof Error), 'a telephone-event payload');
  return e;
};

test('joins two 10 ms microphone frames into one 20 ms µ-law packet, the first with the marker bit', () => {
  const path = new AudioSendPath({ codec: PCMU, ptimeMs: 20 });
  path.push(frame(1000));
  path.push(frame(-2000));
  path.push(frame(3000));
  path.push(frame(4000));
  const [first] = sends(path.tick());
  const [second] = sends(path.tick());
  assert.deepEqual(first, { kind: 'send', payload: encodeUlaw(joined(1000, -2000)), samples: 160, marker: true, payloadType: 0, dtmf: false });
  assert.deepEqual(second?.payload, encodeUlaw(joined(3000, 4000)));
  assert.equal(second?.marker, false);
  assert.equal(path.stats.audioPackets, 2);
});

test('a tick with less than one ptime of audio sends silence and keeps the frame, which gives the capture one frame of slack', () => {
  const path = new AudioSendPath({ codec: PCMU, ptimeMs: 20 });
  path.push(frame(500));
  assert.deepEqual(sends(path.tick())[0]?.payload, encodeUlaw(new Int16Array(160)));
  assert.equal(path.stats.captureUnderruns, 1);
  // From here the capture and the pacer may fire in either order at the same instant.
  path.push(frame(600));
  path.push(frame(700));
  assert.deepEqual(sends(path.tick())[0]?.payload, encodeUlaw(joined(500, 600)));
  path.push(frame(800));
  path.push(frame(900));
  assert.deepEqual(sends(path.tick())[0]?.payload, encodeUlaw(joined(700, 800)));
  assert.equal(path.stats.captureUnderruns, 1);
});

test('holds at most maxQueuedMs of microphone audio and drops the oldest beyond it', () => {
  const path = new AudioSendPath({ codec: PCMU, ptimeMs: 20, maxQueuedMs: 40 });
  for (const level of [100, 200, 300, 400, 500, 600]) path.push(frame(level));
  assert.equal(path.stats.droppedSamples, 160);
  assert.deepEqual(sends(path.tick())[0]?.payload, encodeUlaw(joined(300, 400)));
});

test('encodes A-law once the codec is renegotiated to PCMA, with its payload type', () => {
  const path = new AudioSendPath({ codec: PCMU, ptimeMs: 20 });
  path.setCodec({ name: 'PCMA', payloadType: 8 }, undefined);
  path.push(frame(1234));
  path.push(frame(1234));
  const [a] = sends(path.tick());
  assert.deepEqual(a?.payload, encodeAlaw(joined(1234, 1234)));
  assert.equal(a?.payloadType, 8);
});

test('a key press replaces the audio from a packet boundary on, drops the microphone frames of that time, then audio resumes', () => {
  const path = new AudioSendPath({ codec: PCMU, telephoneEventPt: EVENT_PT, ptimeMs: 20 });
  let level = 0;
  const tick = (): AudioSendAction[] => {
    path.push(frame(++level));
    path.push(frame(++level));
    return path.tick();
  };
  tick();
  path.queueDtmf('5');
  const eventPackets: Sent[] = [];
  for (let i = 0; i < 7; i++) {
    const out = sends(tick());
    assert.equal(out.length, 1);
    assert.equal(out[0]?.dtmf, true, `tick ${i} sends the event, no audio`);
    eventPackets.push(out[0] as Sent);
  }
  // 100 ms minimum: five updates, the fifth the first of three end packets (RFC 4733 §2.5.1.4).
  assert.deepEqual(eventPackets.map((p) => p.marker), [true, false, false, false, false, false, false]);
  assert.deepEqual(eventPackets.map((p) => event(p).end), [false, false, false, false, true, true, true]);
  assert.deepEqual(eventPackets.map((p) => event(p).duration), [160, 320, 480, 640, 800, 800, 800]);
  assert.ok(eventPackets.every((p) => p.payloadType === EVENT_PT && event(p).event === 5));
  // All packets of the event carry its start timestamp; the last moves the stream past it.
  assert.deepEqual(eventPackets.map((p) => p.samples), [0, 0, 0, 0, 0, 0, 7 * 160]);
  const [audio] = sends(tick());
  assert.equal(audio?.dtmf, false);
  // The frames captured during the event were dropped: this packet holds the newest two.
  assert.deepEqual(audio?.payload, encodeUlaw(joined(level - 1, level)));
  assert.equal(path.stats.dtmfDigits, 1);
  assert.equal(path.pendingDigits, 0);
});

test('queued digits go one after another, with 60 ms of audio between them', () => {
  const path = new AudioSendPath({ codec: PCMU, telephoneEventPt: EVENT_PT, ptimeMs: 20 });
  path.queueDtmf('12');
  const kinds: string[] = [];
  for (let i = 0; i < 20; i++) {
    const [a] = sends(path.tick());
    kinds.push(a?.dtmf ? String(event(a).event) : 'audio');
  }
  assert.deepEqual(kinds.slice(0, 17), [...Array(7).fill('1'), 'audio', 'audio', 'audio', ...Array(7).fill('2')]);
  assert.equal(kinds[17], 'audio');
  assert.equal(path.stats.dtmfDigits, 2);
});

test('refuses DTMF without a negotiated telephone-event, and a string with a bad digit, queuing none of it', () => {
  const none = new AudioSendPath({ codec: PCMU, ptimeMs: 20 });
  assert.throws(() => none.queueDtmf('1'), (err: unknown) => err instanceof AudioPipelineError && err.code === 'no-telephone-event');
  const path = new AudioSendPath({ codec: PCMU, telephoneEventPt: EVENT_PT, ptimeMs: 20 });
  assert.throws(() => path.queueDtmf('12x'), (err: unknown) => err instanceof AudioPipelineError && err.code === 'bad-digit');
  assert.equal(path.pendingDigits, 0);
  path.queueDtmf('*#ab');
  assert.equal(path.pendingDigits, 4);
});

test('after a stall the skipped ticks move the timestamp on and their microphone audio is dropped', () => {
  const path = new AudioSendPath({ codec: PCMU, ptimeMs: 20, maxQueuedMs: 200 });
  for (let level = 1; level <= 8; level++) path.push(frame(level * 100));
  const actions = path.tick(2);
  assert.deepEqual(actions[0], { kind: 'skip', samples: 320 });
  assert.deepEqual(sends(actions)[0]?.payload, encodeUlaw(joined(500, 600)));
});

// RFC 4733 §2.5.1 sender of one key press: marker on the first packet, one timestamp per
// event (per segment), a duration growing by a ptime per tick, the end packet three times,
// segments for events longer than 0xFFFF, and the stream's timestamp after the event.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DtmfSender, TelephoneEventError, decodeRtp, decodeTelephoneEvent,
  type DtmfDigit, type DtmfSendAction, type TelephoneEvent,
} from '../../../src/media/index.js';
import { RtpPacketizer } from '../../../src/media/rtp-packetizer.js';

type Send = Extract<DtmfSendAction, { kind: 'send' }>;

function sends(actions: readonly DtmfSendAction[]): Send[] {
  return actions.filter((a): a is Send => a.kind === 'send');
}

function event(a: Send): TelephoneEvent {
  const e = decodeTelephoneEvent(a.payload);
  assert.ok(!(e instanceof TelephoneEventError));
  return e;
}

/** Ticks until done (at most `limit` ticks), releasing the key after `holdTicks`; returns the actions of each tick. */
function run(sender: DtmfSender, holdTicks: number, limit = 2000): DtmfSendAction[][] {
  const ticks: DtmfSendAction[][] = [];
  for (let i = 1; sender.state !== 'done'; i++) {
    assert.ok(i <= limit, `still ${sender.state} after ${limit} ticks`);
    ticks.push(sender.tick());
    if (i === holdTicks) sender.release();
  }
  return ticks;
}

test('a key tapped and released sends 5 growing updates up to 100 ms, the last with E, then repeats it twice', () => {
  const sender = new DtmfSender({ digit: '5' });
  sender.release();
  const ticks = run(sender, 0);
  assert.equal(ticks.length, 7);
  assert.ok(ticks.every((t) => sends(t).length === 1), 'one packet per ptime');
  const packets = ticks.flatMap(sends);
  assert.deepEqual(packets.map((p) => event(p).duration), [160, 320, 480, 640, 800, 800, 800]);
  assert.deepEqual(packets.map((p) => event(p).end), [false, false, false, false, true, true, true]);
  assert.deepEqual(packets.map((p) => p.marker), [true, false, false, false, false, false, false]);
  assert.ok(packets.every((p) => event(p).event === 5 && event(p).volume === 10 && p.timestampOffset === 0));
  assert.deepEqual(packets[5]?.payload, packets[4]?.payload);
  assert.deepEqual(packets[6]?.payload, packets[4]?.payload);
  assert.deepEqual(ticks.at(-1)?.at(-1), { kind: 'done', elapsedSamples: 7 * 160 });
});

test('all packets keep the stream timestamp until the last, which advances it by the time the event occupied', () => {
  const sender = new DtmfSender({ digit: '1' });
  sender.release();
  const packets = run(sender, 0).flatMap(sends);
  assert.deepEqual(packets.map((p) => p.samples), [0, 0, 0, 0, 0, 0, 7 * 160]);
});

test('through an RtpPacketizer the event takes the next audio timestamp and audio resumes where it would have been', () => {
  const packetizer = new RtpPacketizer({ ssrc: 7, sequenceNumber: 0xfffe, timestamp: 0xffffff00 }, 0);
  const audio = new Uint8Array(160).fill(0xff);
  const wire: Uint8Array[] = [packetizer.packetize(audio, 160), packetizer.packetize(audio, 160)];
  const sender = new DtmfSender({ digit: '#' });
  sender.release();
  for (const a of run(sender, 0).flat()) if (a.kind === 'send') wire.push(packetizer.packetize(a.payload, a.samples, a.marker, 101));
  wire.push(packetizer.packetize(audio, 160));

  const decoded = wire.map((b) => {
    const p = decodeRtp(b);
    assert.ok(!(p instanceof Error));
    return p;
  });
  const start = (0xffffff00 + 2 * 160) >>> 0;
  assert.deepEqual(decoded.map((p) => p.sequenceNumber), [0xfffe, 0xffff, 0, 1, 2, 3, 4, 5, 6, 7], 'one sequence space');
  assert.ok(decoded.slice(2, 9).every((p) => p.timestamp === start && p.payloadType === 101));
  const resumed = decoded.at(-1);
  assert.equal(resumed?.payloadType, 0);
  assert.equal(resumed?.timestamp, (start + 7 * 160) >>> 0);
});

test('a held key keeps updating every ptime and ends on the tick after its release', () => {
  const sender = new DtmfSender({ digit: '0' });
  const ticks = run(sender, 15);
  const packets = ticks.flatMap(sends);
  assert.equal(packets.length, 16 + 2);
  assert.deepEqual(packets.slice(0, 16).map((p) => event(p).duration), Array.from({ length: 16 }, (_, i) => 160 * (i + 1)));
  assert.deepEqual(packets.map((p) => event(p).end).lastIndexOf(false), 14);
  assert.equal(event(packets[15] as Send).duration, 16 * 160);
});

test('the minimum duration is configurable and holds even when the key is released at once', () => {
  const short = new DtmfSender({ digit: '3', minDurationMs: 40 });
  short.release();
  assert.deepEqual(run(short, 0).flatMap(sends).map((p) => [event(p).duration, event(p).end]), [
    [160, false], [320, true], [320, true], [320, true],
  ]);
  const long = new DtmfSender({ digit: '3', minDurationMs: 250, ptimeMs: 30 });
  long.release();
  const durations = run(long, 0).flatMap(sends).map((p) => event(p).duration);
  // 250 ms is not a whole number of 30 ms ticks: the event lasts 9 ticks, 270 ms.
  assert.deepEqual(durations, [...Array.from({ length: 9 }, (_, i) => 240 * (i + 1)), 2160, 2160]);
});

test('at 16 kHz and 10 ms ptime the duration grows by 160 units per tick', () => {
  const sender = new DtmfSender({ digit: 'A', clockRateHz: 16000, ptimeMs: 10, minDurationMs: 50 });
  sender.release();
  assert.deepEqual(run(sender, 0).flatMap(sends).map((p) => event(p).duration), [160, 320, 480, 640, 800, 800, 800]);
});

test('ticks skipped in a stall count as elapsed time in the next update', () => {
  const sender = new DtmfSender({ digit: '9' });
  sender.tick();
  const [update] = sends(sender.tick(4));
  assert.ok(update);
  assert.equal(event(update).duration, 5 * 160);
});

test('one end packet only when endPacketSends is 1, carrying the whole advance', () => {
  const sender = new DtmfSender({ digit: '2', endPacketSends: 1 });
  sender.release();
  const packets = run(sender, 0).flatMap(sends);
  assert.deepEqual(packets.map((p) => [event(p).end, p.samples]), [
    [false, 0], [false, 0], [false, 0], [false, 0], [true, 800],
  ]);
});

test('an event longer than 0xFFFF units is split: the segment ends at 0xFFFF without E, sent 3 times, then a new segment at +0xFFFF', () => {
  const sender = new DtmfSender({ digit: '*' });
  const holdTicks = 500; // 10 s at 20 ms: one split at 409.6 ticks
  const packets = run(sender, holdTicks).flatMap(sends);
  const firstSegment = packets.filter((p) => p.timestampOffset === 0);
  const secondSegment = packets.filter((p) => p.timestampOffset === 0xffff);
  assert.equal(firstSegment.length + secondSegment.length, packets.length);

  assert.deepEqual(firstSegment.slice(-4).map((p) => event(p).duration), [409 * 160, 0xffff, 0xffff, 0xffff]);
  assert.ok(firstSegment.every((p) => !event(p).end), 'no E bit before the last segment');
  assert.deepEqual(firstSegment.map((p) => p.samples).filter((s) => s !== 0), [0xffff]);

  assert.ok(secondSegment.every((p) => !p.marker), 'a segment continues the event: no marker');
  assert.equal(event(secondSegment[0] as Send).duration, 413 * 160 - 0xffff, 'the first update after the three repeats');
  assert.deepEqual(secondSegment.slice(-3).map((p) => [event(p).end, event(p).duration]), Array(3).fill([true, 501 * 160 - 0xffff]));
  assert.equal(packets.filter((p) => p.marker).length, 1);
  assert.equal(packets.reduce((sum, p) => sum + p.samples, 0), 503 * 160, 'the stream moves by the whole time the event occupied');
});

test('ticks after done send nothing', () => {
  const sender = new DtmfSender({ digit: 'D' });
  sender.release();
  run(sender, 0);
  assert.deepEqual(sender.tick(), []);
  assert.equal(sender.state, 'done');
});

test('states go idle → sending → ending → done', () => {
  const sender = new DtmfSender({ digit: '4' });
  const seen = [sender.state];
  sender.tick();
  seen.push(sender.state);
  sender.release();
  for (let i = 0; i < 6; i++) {
    sender.tick();
    if (seen.at(-1) !== sender.state) seen.push(sender.state);
  }
  assert.deepEqual(seen, ['idle', 'sending', 'ending', 'done']);
});

test('rejects a non-digit, a volume over 63 and a ptime that is not a whole number of samples', () => {
  assert.throws(() => new DtmfSender({ digit: 'E' as DtmfDigit }), (e: unknown) => e instanceof TelephoneEventError && e.code === 'unknown-digit');
  assert.throws(() => new DtmfSender({ digit: '1', volume: 64 }), (e: unknown) => e instanceof TelephoneEventError && e.code === 'invalid-field');
  assert.throws(() => new DtmfSender({ digit: '1', ptimeMs: 0.1 }), RangeError);
  assert.throws(() => new DtmfSender({ digit: '1', endPacketSends: 0 }), RangeError);
  assert.throws(() => new DtmfSender({ digit: '1' }).tick(0), RangeError);
});

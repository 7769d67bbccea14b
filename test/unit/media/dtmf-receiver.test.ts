// RFC 4733 §2.5.2 receiver: one report per key press, on the first packet to arrive, through
// loss, duplicates, the repeated end packets, reordering and long-event segments.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DtmfReceiver, DtmfSender, TelephoneEventError, encodeTelephoneEvent,
  type DtmfDigit, type DtmfReceiveResult, type DtmfReceiverPacket,
} from '../../../src/media/index.js';

const SSRC = 0x5eed;

/** The packets of one press as a DtmfSender sends them, the key held for `holdTicks` ptimes. */
function press(digit: DtmfDigit, timestamp: number, holdTicks = 0): DtmfReceiverPacket[] {
  const sender = new DtmfSender({ digit });
  const packets: DtmfReceiverPacket[] = [];
  for (let i = 1; sender.state !== 'done'; i++) {
    if (i > holdTicks) sender.release();
    for (const a of sender.tick()) {
      if (a.kind === 'send') packets.push({ ssrc: SSRC, timestamp: (timestamp + a.timestampOffset) >>> 0, marker: a.marker, payload: a.payload });
    }
  }
  return packets;
}

function packet(event: number, timestamp: number, opts: { end?: boolean; duration?: number; marker?: boolean; ssrc?: number } = {}): DtmfReceiverPacket {
  return {
    ssrc: opts.ssrc ?? SSRC,
    timestamp,
    marker: opts.marker ?? false,
    payload: encodeTelephoneEvent({ event, end: opts.end ?? false, volume: 10, duration: opts.duration ?? 160 }),
  };
}

function feed(receiver: DtmfReceiver, packets: readonly DtmfReceiverPacket[]): DtmfReceiveResult[] {
  return packets.map((p) => receiver.receive(p));
}

function digits(results: readonly DtmfReceiveResult[]): string {
  return results.map((r) => (r.kind === 'digit' ? r.digit : '')).join('');
}

test('reports the digit on its first packet and ignores the updates and the three end packets', () => {
  const results = feed(new DtmfReceiver(), press('7', 1000));
  assert.equal(results.length, 7);
  assert.deepEqual(results[0], { kind: 'digit', digit: '7', ssrc: SSRC, timestamp: 1000 });
  assert.ok(results.slice(1).every((r) => r.kind === 'ignored' && r.reason === 'same-event'));
});

test('a press whose marker packet was lost is reported from its first update', () => {
  const results = feed(new DtmfReceiver(), press('3', 1000).slice(1));
  assert.equal(digits(results), '3');
  assert.equal(results[0]?.kind, 'digit');
});

test('a press of which only an end packet arrives is still reported, once', () => {
  const packets = press('#', 1000);
  const results = feed(new DtmfReceiver(), packets.slice(5));
  assert.equal(digits(results), '#');
  assert.equal(results[0]?.kind, 'digit');
});

test('duplicated packets do not report the press again', () => {
  const packets = press('1', 1000).flatMap((p) => [p, p]);
  assert.equal(digits(feed(new DtmfReceiver(), packets)), '1');
});

test('reordered packets of one press report it once, on whichever arrives first', () => {
  const [first, second, third, ...rest] = press('8', 1000);
  assert.ok(first && second && third);
  const results = feed(new DtmfReceiver(), [third, first, ...rest.reverse(), second]);
  assert.equal(digits(results), '8');
  assert.equal(results[0]?.kind, 'digit');
});

test('the same digit pressed twice has two timestamps and is two presses', () => {
  const receiver = new DtmfReceiver();
  assert.equal(digits(feed(receiver, [...press('5', 1000), ...press('5', 1000 + 9 * 160)])), '55');
});

test('digits of a dialled string come out in order', () => {
  const packets = ['1', '5', '9', '#'].flatMap((d, i) => press(d as DtmfDigit, 50_000 + i * 10 * 160));
  assert.equal(digits(feed(new DtmfReceiver(), packets)), '159#');
});

test('a late end packet of the previous press, arriving after the next began, is not a new press', () => {
  const a = press('2', 1000);
  const b = press('4', 1000 + 9 * 160);
  const lateEnd = a.at(-1);
  assert.ok(lateEnd);
  const results = feed(new DtmfReceiver(), [...a.slice(0, 5), ...b.slice(0, 2), lateEnd, ...b.slice(2)]);
  assert.equal(digits(results), '24');
});

test('timestamps that wrap past 2^32 are just another event', () => {
  const packets = [...press('6', 0xffffff00), ...press('6', 0x00000380)];
  assert.equal(digits(feed(new DtmfReceiver(), packets)), '66');
});

test('the next segment of an event longer than 0xFFFF continues the press (§2.5.1.3)', () => {
  const packets = press('0', 0xfffe0000, 500);
  const results = feed(new DtmfReceiver(), packets);
  assert.equal(digits(results), '0');
  assert.equal(results.filter((r) => r.kind === 'ignored' && r.reason === 'next-segment').length, 1);
});

test('the next segment continues the press even when the three 0xFFFF packets were lost', () => {
  const packets = press('0', 1000, 500).filter((p) => !(p.timestamp === 1000 && new DataView(p.payload.buffer).getUint16(2) === 0xffff));
  assert.equal(digits(feed(new DtmfReceiver(), packets)), '0');
});

test('the same key pressed again right after a press whose end packets were all lost is a new press', () => {
  const first = press('9', 1000).slice(0, 4); // updates up to 640 units, then nothing
  const again = press('9', 1000 + 640).slice(1); // starts where the first was last heard, its marker packet lost
  assert.equal(digits(feed(new DtmfReceiver(), [...first, ...again])), '99');
});

test('a different digit at a new timestamp is a new press even with no marker bit', () => {
  const results = feed(new DtmfReceiver(), [packet(1, 1000, { duration: 0xffff }), packet(2, 1000 + 0xffff)]);
  assert.equal(digits(results), '12');
});

test('flash and other non-DTMF events are ignored as not-dtmf', () => {
  assert.deepEqual(new DtmfReceiver().receive(packet(16, 1000, { marker: true })), { kind: 'ignored', reason: 'not-dtmf' });
});

test('a payload shorter than 4 octets is ignored as malformed with the parse error', () => {
  const result = new DtmfReceiver().receive({ ssrc: SSRC, timestamp: 1, marker: true, payload: Uint8Array.of(1, 2) });
  assert.equal(result.kind, 'ignored');
  assert.ok(result.kind === 'ignored' && result.reason === 'malformed' && result.error instanceof TelephoneEventError);
  assert.equal(result.error?.code, 'too-short');
});

test('a new SSRC starts over: its event at a timestamp already seen is a new press', () => {
  const receiver = new DtmfReceiver();
  const results = feed(receiver, [packet(4, 1000, { marker: true }), packet(4, 1000, { marker: true, ssrc: 0xbeef })]);
  assert.equal(digits(results), '44');
});

test('remembers the last historySize events, so an end packet older than that is taken for a new press', () => {
  const receiver = new DtmfReceiver(2);
  const oldEnd = packet(1, 1000, { end: true, duration: 800 });
  feed(receiver, [packet(1, 1000, { marker: true }), packet(2, 3000, { marker: true })]);
  assert.equal(receiver.receive(oldEnd).kind, 'ignored');
  receiver.receive(packet(3, 5000, { marker: true }));
  assert.equal(receiver.receive(oldEnd).kind, 'digit');
});

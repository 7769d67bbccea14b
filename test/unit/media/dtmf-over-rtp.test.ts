// DTMF over real UDP sockets on 127.0.0.1: a PacketPacer on a fake clock drives DtmfSender
// machines into one RtpSession, between µ-law silence frames; a second RtpSession's
// telephone-event packets feed a DtmfReceiver. The wait is for the packets, with a timeout.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import {
  DtmfReceiver, DtmfSender, PacketPacer, RtpSession,
  type DtmfDigit, type ReceivedRtpPacket, type RtpSessionOptions, type TransportAddress,
} from '../../../src/media/index.js';
import { FakeClock } from '../../../src/util/index.js';

const LOCAL = '127.0.0.1';
const NOWHERE: TransportAddress = { address: LOCAL, port: 9 };
const PCMU = 0;
const TELEPHONE_EVENT = 101;
const SILENCE = new Uint8Array(160).fill(0xff);
/** Audio packets before the first digit, between digits and after the last. */
const GAP_TICKS = 3;

async function open(t: TestContext, opts: Partial<RtpSessionOptions> = {}): Promise<RtpSession> {
  const s = await RtpSession.open({ localAddress: LOCAL, localPort: 0, remote: NOWHERE, payloadTypes: [PCMU, TELEPHONE_EVENT], ...opts });
  t.after(() => s.close());
  return s;
}

/** The caller the DtmfSender documentation describes: audio ticks, or the current digit's ticks instead. */
function dialer(session: RtpSession, digits: readonly DtmfDigit[], onFinished: () => void) {
  const queue = [...digits];
  let current: DtmfSender | undefined;
  let gap = GAP_TICKS;
  return (intervals: number): void => {
    if (!current && gap === 0 && queue.length > 0) {
      current = new DtmfSender({ digit: queue.shift() as DtmfDigit });
      current.release();
    }
    if (!current) {
      session.send(SILENCE, 160 * intervals);
      if (--gap <= 0 && queue.length === 0) onFinished();
      return;
    }
    for (const a of current.tick(intervals)) {
      if (a.kind === 'send') session.send(a.payload, a.samples, a.marker, TELEPHONE_EVENT);
      else {
        current = undefined;
        gap = GAP_TICKS;
      }
    }
  };
}

function waitForPackets(session: RtpSession, received: ReceivedRtpPacket[], n: number, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (received.length < n) return;
      clearTimeout(timer);
      off();
      resolve();
    };
    const timer = setTimeout(() => {
      off();
      reject(new Error(`waited ${timeoutMs} ms for ${n} RTP packets, got ${received.length}`));
    }, timeoutMs);
    const off = session.events.on('packet', check);
    check();
  });
}

test('digits 159# sent as telephone-events by one RtpSession are reported as exactly 159# by the other', async (t) => {
  const sender = await open(t, { sendPayloadType: PCMU, start: { ssrc: 0x0d7f, sequenceNumber: 0xfff0, timestamp: 0xfffff000 } });
  const receiver = await open(t, { remote: sender.local });
  sender.setRemote(receiver.local, [PCMU, TELEPHONE_EVENT]);

  const received: ReceivedRtpPacket[] = [];
  const dtmf = new DtmfReceiver();
  let reported = '';
  receiver.events.on('packet', (p) => {
    received.push(p);
    if (p.payloadType !== TELEPHONE_EVENT) return;
    const result = dtmf.receive(p);
    if (result.kind === 'digit') reported += result.digit;
  });

  const clock = new FakeClock();
  const pacer = new PacketPacer({
    clock, ptimeMs: 20, onTick: (tick) => send(1 + tick.skipped), onError: (err) => assert.fail(String(err)),
  });
  t.after(() => pacer.close());
  const send = dialer(sender, ['1', '5', '9', '#'], () => pacer.stop());
  pacer.start();
  clock.advance(10_000);
  assert.equal(pacer.isRunning, false, 'the dialer finished');

  // 3 silence packets before each digit and after the last, and 7 event packets per digit.
  const expected = 4 * (GAP_TICKS + 7) + GAP_TICKS;
  assert.equal(sender.counters.sent, expected);
  await waitForPackets(receiver, received, expected);
  assert.equal(reported, '159#');

  // Each event sits at the audio position where it began, and audio resumes 7 ptimes later.
  const events = received.filter((p) => p.payloadType === TELEPHONE_EVENT);
  const starts = [...new Set(events.map((p) => p.timestamp))];
  assert.equal(starts.length, 4);
  assert.deepEqual(events.filter((p) => p.marker).map((p) => p.timestamp), starts);
  for (const start of starts) {
    const last = received.findLastIndex((p) => p.payloadType === TELEPHONE_EVENT && p.timestamp === start);
    assert.equal(received[last + 1]?.payloadType, PCMU);
    assert.equal(received[last + 1]?.timestamp, (start + 7 * 160) >>> 0);
    assert.equal(received[last - 7]?.timestamp, (start - 160) >>> 0, 'the event took the next audio timestamp');
  }
});

// RtpSession on real UDP sockets on 127.0.0.1: the wiring of packetizer, latch and reception
// statistics to the socket. Waits are for events, each with a timeout that fails clearly.
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { test, type TestContext } from 'node:test';
import {
  PacketPacer, RtpError, RtpSession, SEND_CHECK_EVERY, SineSource, buildRtcpReport, decodeUlaw, encodeRtp, encodeUlaw, goertzelAmplitude,
  type RtpSessionEvents, type RtpSessionOptions, type TransportAddress,
} from '../../../src/media/index.js';
import { SystemClock } from '../../../src/util/index.js';

const LOCAL = '127.0.0.1';
/** The discard port: a placeholder remote until the peer's port is known. */
const NOWHERE: TransportAddress = { address: LOCAL, port: 9 };

async function open(t: TestContext, opts: Partial<RtpSessionOptions> = {}): Promise<RtpSession> {
  const s = await RtpSession.open({ localAddress: LOCAL, localPort: 0, remote: NOWHERE, payloadTypes: [0], ...opts });
  t.after(() => s.close());
  return s;
}

async function rawSocket(t: TestContext): Promise<Socket> {
  const sock = createSocket('udp4');
  t.after(() => new Promise<void>((resolve) => sock.close(() => resolve())));
  await new Promise<void>((resolve) => sock.bind(0, LOCAL, () => resolve()));
  return sock;
}

/** Records a session's events from now on; `until(n)` resolves with the first n, or rejects after timeoutMs. */
function record<K extends keyof RtpSessionEvents>(session: RtpSession, event: K) {
  const items: Array<RtpSessionEvents[K]> = [];
  let wake = (): void => {};
  session.events.on(event, (e) => {
    items.push(e);
    wake();
  });
  return {
    items,
    until(n: number, timeoutMs = 3000): Promise<Array<RtpSessionEvents[K]>> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`waited ${timeoutMs} ms for ${n} '${String(event)}' events, got ${items.length}`)), timeoutMs);
        wake = () => {
          if (items.length < n) return;
          clearTimeout(timer);
          resolve(items.slice(0, n));
        };
        wake();
      });
    },
  };
}

const frameOfTone = (tone: SineSource): Uint8Array => encodeUlaw(tone.next(160));

test('two sessions exchange 50 paced µ-law packets of a 1 kHz tone that the receiver decodes as 1 kHz', async (t) => {
  const sender = await open(t);
  const receiver = await open(t, { remote: sender.local });
  sender.setRemote(receiver.local, [0]);
  const packets = record(receiver, 'packet');
  const tone = new SineSource({ frequencyHz: 1000, sampleRateHz: 8000, amplitude: 8000 });
  let sent = 0;
  const pacer = new PacketPacer({
    clock: new SystemClock(), ptimeMs: 20, onTick: () => {
      sender.send(frameOfTone(tone), 160, sent === 0);
      if (++sent === 50) pacer.stop();
    },
  });
  t.after(() => pacer.close());
  pacer.start();

  const got = await packets.until(50, 5000);
  const first = got[0];
  assert.ok(first);
  got.forEach((p, i) => {
    assert.equal(p.sequenceNumber, (first.sequenceNumber + i) & 0xffff);
    assert.equal(p.timestamp, (first.timestamp + 160 * i) >>> 0);
    assert.equal(p.marker, i === 0);
    assert.equal(p.payloadType, 0);
    assert.equal(p.ssrc, sender.ssrc);
    assert.deepEqual(p.from, sender.local);
  });
  const pcm = decodeUlaw(Uint8Array.from(got.flatMap((p) => [...p.payload])));
  assert.equal(pcm.length, 8000);
  const at1k = goertzelAmplitude(pcm, 1000, 8000);
  assert.ok(Math.abs(at1k - 8000) < 80, `1000 Hz amplitude ${at1k}`);
  for (const f of [500, 1500, 2000]) assert.ok(goertzelAmplitude(pcm, f, 8000) < 80, `${f} Hz should be absent`);
  assert.deepEqual(receiver.counters, { sent: 0, received: 50, lost: 0, duplicates: 0, rejected: 0, malformed: 0 });
  assert.equal(sender.counters.sent, 50);
  assert.ok(receiver.jitterMs >= 0 && receiver.jitterMs < 10, `jitter ${receiver.jitterMs} ms on loopback`);

  // Symmetric RTP: the answer comes from the very port the receiver was sent to.
  const answers = record(sender, 'packet');
  receiver.send(frameOfTone(tone), 160);
  const [answer] = await answers.until(1);
  assert.deepEqual(answer?.from, receiver.local);
});

test('a stranger with the wrong SSRC cannot take the target; the peer that moves port is followed on its 5th packet', async (t) => {
  const phone = await open(t);
  const peer = await open(t, { remote: phone.local, start: { ssrc: 0x5eed, sequenceNumber: 100, timestamp: 0 } });
  phone.setRemote(peer.local, [0]);
  const packets = record(phone, 'packet');
  const dropped = record(phone, 'dropped');
  const moves = record(phone, 'targetChanged');
  const frame = frameOfTone(new SineSource({ frequencyHz: 1000, sampleRateHz: 8000 }));

  for (let i = 0; i < 3; i++) peer.send(frame, 160);
  await packets.until(3);

  const stranger = await rawSocket(t);
  for (let i = 0; i < 3; i++) {
    stranger.send(encodeRtp({ payloadType: 0, sequenceNumber: i, timestamp: 160 * i, ssrc: 0xbad, payload: frame }), phone.local.port, LOCAL);
  }
  const strangers = await dropped.until(3);
  assert.deepEqual(strangers.map((d) => [d.reason, d.from.port]), new Array(3).fill(['ssrc', stranger.address().port]));
  assert.deepEqual(phone.target, peer.local);

  // The peer's NAT binding changes: same SSRC, stream continues, from a new port.
  const moved = await open(t, { remote: phone.local, start: { ssrc: 0x5eed, sequenceNumber: 103, timestamp: 480 } });
  const oldPeer = peer.local;
  await peer.close();
  for (let i = 0; i < 4; i++) moved.send(frame, 160);
  const unproven = (await dropped.until(7)).slice(3);
  assert.deepEqual(unproven.map((d) => [d.reason, d.from.port]), new Array(4).fill(['unproven-source', moved.local.port]));
  assert.deepEqual(phone.target, oldPeer);
  assert.equal(moves.items.length, 0);

  moved.send(frame, 160);
  const [move] = await moves.until(1);
  assert.deepEqual(move, { target: moved.local, previous: oldPeer, ssrc: 0x5eed });
  assert.deepEqual(phone.target, moved.local);
  const fourth = (await packets.until(4))[3];
  assert.equal(fourth?.sequenceNumber, 107);
  assert.deepEqual(fourth?.from, moved.local);

  const atNewPort = record(moved, 'packet');
  phone.send(frame, 160);
  const [reply] = await atNewPort.until(1);
  assert.deepEqual(reply?.from, phone.local);
  // The four packets held back while the new source proved itself show as a sequence gap.
  assert.deepEqual(phone.counters, { sent: 1, received: 4, lost: 4, duplicates: 0, rejected: 7, malformed: 0 });
});

test('counts the duplicates and sequence gaps of the packets it receives', async (t) => {
  const phone = await open(t);
  const peer = await rawSocket(t);
  phone.setRemote({ address: LOCAL, port: peer.address().port }, [0]);
  const packets = record(phone, 'packet');
  const dropped = record(phone, 'dropped');
  const rtp = (seq: number): Uint8Array => encodeRtp({ payloadType: 0, sequenceNumber: seq, timestamp: 160 * seq, ssrc: 77, payload: new Uint8Array(160) });
  for (const seq of [1, 2, 2, 5, 6]) peer.send(rtp(seq), phone.local.port, LOCAL);
  assert.deepEqual((await packets.until(4)).map((p) => p.sequenceNumber), [1, 2, 5, 6]);
  assert.deepEqual((await dropped.until(1)).map((d) => d.reason), ['duplicate']);
  assert.deepEqual(phone.counters, { sent: 0, received: 4, lost: 2, duplicates: 1, rejected: 0, malformed: 0 });
});

test('rtcp-mux: RTCP from the target is parsed and emitted, from others and garbage is dropped', async (t) => {
  const phone = await open(t);
  const peer = await open(t, { remote: phone.local });
  phone.setRemote(peer.local, [0]);
  const rtcp = record(phone, 'rtcp');
  const dropped = record(phone, 'dropped');

  peer.sendRtcp(buildRtcpReport({ ssrc: peer.ssrc, cname: 'peer@example.com' }));
  const [report] = await rtcp.until(1);
  assert.deepEqual(report?.packets, [
    { type: 'rr', ssrc: peer.ssrc, reports: [] },
    { type: 'sdes', chunks: [{ ssrc: peer.ssrc, cname: 'peer@example.com' }] },
  ]);

  const stranger = await rawSocket(t);
  stranger.send(buildRtcpReport({ ssrc: 1, cname: 'x' }), phone.local.port, LOCAL);
  stranger.send(Uint8Array.from([0x80, 0xc9, 0xff, 0xff]), phone.local.port, LOCAL);
  stranger.send(Uint8Array.from([0x40, 0x00, 0x00]), phone.local.port, LOCAL);
  assert.deepEqual((await dropped.until(3)).map((d) => d.reason), ['rtcp-source', 'malformed', 'malformed']);
  assert.equal(rtcp.items.length, 1);
  assert.equal(phone.counters.malformed, 2);
  assert.equal(phone.counters.rejected, 1);
});

test('a packet with a payload type that was not negotiated is dropped even from the target', async (t) => {
  const phone = await open(t);
  const peer = await open(t, { remote: phone.local, payloadTypes: [8] });
  phone.setRemote(peer.local, [0]);
  const dropped = record(phone, 'dropped');
  peer.send(new Uint8Array(160), 160);
  const [d] = await dropped.until(1);
  assert.deepEqual(d, { from: peer.local, reason: 'payload-type' });
});

test('close() releases the port, is idempotent, and later sends fail with RtpError closed', async (t) => {
  const s = await open(t);
  const { port } = s.local;
  await s.close();
  await s.close();
  assert.throws(() => s.send(new Uint8Array(1), 160), (e: unknown) => e instanceof RtpError && e.code === 'closed');
  const again = await open(t, { localPort: port });
  assert.equal(again.local.port, port);
});

test('opening on a port that is taken rejects with RtpError socket', async (t) => {
  const s = await open(t);
  await assert.rejects(
    RtpSession.open({ localAddress: LOCAL, localPort: s.local.port, remote: NOWHERE, payloadTypes: [0] }),
    (e: unknown) => e instanceof RtpError && e.code === 'socket',
  );
});

test('a remote given by name instead of an IP literal is still resolved and sent to', async (t) => {
  const sock = await rawSocket(t);
  const got = new Promise<Buffer>((resolve) => sock.once('message', (msg) => resolve(msg)));
  const s = await open(t, { remote: { address: 'localhost', port: sock.address().port } });
  s.send(new Uint8Array(160), 160);
  const msg = await got;
  assert.equal(msg.length, 12 + 160);
});

test('a send the kernel refuses is reported as an error event naming the address it went to', async (t) => {
  // Broadcast without SO_BROADCAST: sendmsg fails with EACCES.
  const s = await open(t, { remote: { address: '255.255.255.255', port: 9 } });
  const errors = record(s, 'error');
  s.send(new Uint8Array(160), 160);
  const [err] = await errors.until(1);
  assert.ok(err instanceof RtpError && err.code === 'socket');
  assert.match(err.message, /RTP send to 255\.255\.255\.255:9: /);
});

test('a send error that lasts is reported once per SEND_CHECK_EVERY packets, not for every packet', async (t) => {
  const s = await open(t, { remote: { address: '255.255.255.255', port: 9 } });
  const errors = record(s, 'error');
  for (let i = 0; i < 2 * SEND_CHECK_EVERY; i++) s.send(new Uint8Array(160), 160);
  await errors.until(2);
  // dgram reports through process.nextTick, which runs before setImmediate: every report is in by then.
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(errors.items.length, 2);
  assert.equal(s.counters.sent, 2 * SEND_CHECK_EVERY);
});

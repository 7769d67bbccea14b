// SessionMedia runs RFC 6263 keep-alives for every call (and takes a new interval at once): a peer on 127.0.0.1 (a plain socket)
// holds us (its offer sendonly, or inactive), and with no RTP of ours for 15 s (Tr) it gets an RTP
// packet with a payload type neither side listed, our SSRC, the next sequence number and no
// payload; on resume our audio flows and keep-alives stop; after close() nothing more comes. With
// rtcp-mux our RTCP reports go on through the hold and count as sent (§4.3); RTP keep-alives then
// only fill an interval shorter than RTCP's.
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { test, type TestContext } from 'node:test';
import { decodeRtp, isRtcp, type RtpPacket } from '../../../src/media/index.js';
import { LocalPortManager } from '../../../src/nat/index.js';
import { SessionMedia } from '../../../src/rtc/session-media.js';
import { FakeClock } from '../../../src/util/index.js';
import { advanceInSteps } from '../../helpers/fake-time.js';

const HOST = '127.0.0.1';

async function peer(t: TestContext): Promise<{ socket: Socket; port: number; packets: RtpPacket[]; rtcp: number[]; all: number[] }> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, HOST, r));
  t.after(() => socket.close());
  const packets: RtpPacket[] = [];
  const rtcp: number[] = [];
  const all: number[] = [];
  socket.on('message', (msg) => {
    all.push(clockNow());
    if (isRtcp(msg)) {
      rtcp.push(clockNow());
      return;
    }
    const p = decodeRtp(msg);
    if (!(p instanceof Error)) packets.push(p);
  });
  return { socket, port: socket.address().port, packets, rtcp, all };
}

let clockNow: () => number = () => 0;

const offer = (port: number, direction: string, version: number, rtcpMux = false): Buffer => Buffer.from([
  'v=0', `o=peer 1 ${version} IN IP4 ${HOST}`, 's=-', `c=IN IP4 ${HOST}`, 't=0 0',
  `m=audio ${port} RTP/AVP 0 127 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:127 L16/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16',
  `a=${direction}`, ...(rtcpMux ? ['a=rtcp-mux'] : []), '',
].join('\r\n'));

for (const direction of ['sendonly', 'inactive'] as const) {
  test(`a peer that holds us (${direction}) gets a keep-alive every 15 s, audio on resume, nothing after close`, async (t) => {
    const clock = new FakeClock(1_000_000);
    const far = await peer(t);
    const media = await SessionMedia.open({
      clock, portManager: new LocalPortManager(() => HOST),
      settings: () => ({ localAddress: HOST, portMin: 30000, portMax: 39998, ptimeMs: 20, codecs: ['PCMU'], capture: 'tone:1000' }),
      keepaliveIntervalS: () => 25, // the SIP fallback: Tr (15 s) is shorter
    });
    let closed = false;
    t.after(() => (closed ? undefined : media.close()));
    media.events.on('error', (e) => assert.fail(`${e.context}: ${String(e.error)}`));

    const { negotiated } = media.answerOffer(offer(far.port, direction, 1));
    assert.equal(negotiated.rtcpMux, false);
    media.start();
    assert.equal(media.keepaliveIntervalMs, 15_000);
    await advanceInSteps(clock, 46_000, 100);
    assert.equal(far.packets.length, 3, `keep-alives at 15, 30 and 45 s: ${JSON.stringify(far.packets.map((p) => p.payloadType))}`);
    for (const p of far.packets) {
      assert.equal(p.payloadType, 126, 'the highest dynamic PT not listed (the peer listed 127)');
      assert.equal(p.ssrc, media.rtp.ssrc);
      assert.equal(p.payload.length, 0);
    }
    const seqs = far.packets.map((p) => p.sequenceNumber);
    assert.deepEqual(seqs.slice(1), seqs.slice(0, -1).map((s) => (s + 1) & 0xffff));

    // Resume: our audio (PT 0) keeps the binding; no keep-alive among 20 s of it.
    far.packets.length = 0;
    media.answerOffer(offer(far.port, 'sendrecv', 2));
    media.start();
    await advanceInSteps(clock, 20_000, 20);
    assert.ok(far.packets.length >= 900, `audio after resume: ${far.packets.length} packets`);
    assert.deepEqual([...new Set(far.packets.map((p) => p.payloadType))], [0]);

    far.packets.length = 0;
    media.stop();
    closed = true;
    await media.close();
    assert.equal(media.keepaliveIntervalMs, undefined);
    await advanceInSteps(clock, 40_000, 1000);
    assert.equal(far.packets.length, 0);
  });
}

test('a call with media keep-alives off (a test control) sends nothing while held', async (t) => {
  const clock = new FakeClock(1_000_000);
  const far = await peer(t);
  const media = await SessionMedia.open({
    clock, portManager: new LocalPortManager(() => HOST), mediaKeepalive: false,
    settings: () => ({ localAddress: HOST, portMin: 30000, portMax: 39998, ptimeMs: 20, codecs: ['PCMU'] }),
  });
  t.after(() => media.close());
  media.answerOffer(offer(far.port, 'sendonly', 1));
  media.start();
  assert.equal(media.keepaliveIntervalMs, undefined);
  await advanceInSteps(clock, 46_000, 100);
  assert.equal(far.packets.length, 0);
});

test('with rtcp-mux our RTCP reports go on during hold (RFC 6263 §4.3) and count as keep-alives: no RTP one at Tr 15 s', async (t) => {
  const clock = new FakeClock(1_000_000);
  clockNow = () => clock.now();
  const far = await peer(t);
  const media = await SessionMedia.open({
    clock, portManager: new LocalPortManager(() => HOST),
    settings: () => ({ localAddress: HOST, portMin: 30000, portMax: 39998, ptimeMs: 20, codecs: ['PCMU'] }),
  });
  t.after(() => media.close());
  const { negotiated } = media.answerOffer(offer(far.port, 'sendonly', 1, true));
  assert.equal(negotiated.rtcpMux, true);
  media.start();
  await advanceInSteps(clock, 46_000, 100);
  assert.equal(far.packets.length, 0, 'no RTP: the RTCP reports kept the port busy');
  assert.ok(far.rtcp.length >= 8, `an RTCP report about every 5 s of the hold (${far.rtcp.length})`);
  const gaps = far.rtcp.slice(1).map((at, k) => at - (far.rtcp[k] as number));
  assert.ok(gaps.every((g) => g <= 5_100), `no gap over an RTCP interval: ${gaps.join(', ')}`);
});

test('with rtcp-mux and an interval shorter than RTCP\'s, RTP keep-alives fill the gaps between reports', async (t) => {
  const clock = new FakeClock(1_000_000);
  clockNow = () => clock.now();
  const far = await peer(t);
  const media = await SessionMedia.open({
    clock, portManager: new LocalPortManager(() => HOST), keepaliveIntervalS: () => 2,
    settings: () => ({ localAddress: HOST, portMin: 30000, portMax: 39998, ptimeMs: 20, codecs: ['PCMU'] }),
  });
  t.after(() => media.close());
  const startedAt = clock.now();
  media.answerOffer(offer(far.port, 'inactive', 1, true));
  media.start();
  await advanceInSteps(clock, 30_000, 100);
  assert.ok(far.packets.length >= 6, `RTP keep-alives between the 5 s reports (${far.packets.length})`);
  assert.ok(far.rtcp.length >= 5, `the reports go on (${far.rtcp.length})`);
  const times = [startedAt, ...far.all];
  const gaps = times.slice(1).map((at, k) => at - (times[k] as number));
  assert.ok(gaps.every((g) => g <= 2_100), `nothing idle for more than the 2 s interval: ${gaps.join(', ')}`);
});

test('a new SIP flow interval (a binding lifetime measured mid-call) reaches a running call\'s keep-alives at once', async (t) => {
  const clock = new FakeClock(1_000_000);
  clockNow = () => clock.now();
  const far = await peer(t);
  let flowS = 25;
  const media = await SessionMedia.open({
    clock, portManager: new LocalPortManager(() => HOST), keepaliveIntervalS: () => flowS,
    settings: () => ({ localAddress: HOST, portMin: 30000, portMax: 39998, ptimeMs: 20, codecs: ['PCMU'] }),
  });
  t.after(() => media.close());
  media.answerOffer(offer(far.port, 'sendonly', 1));
  media.start();
  assert.equal(media.keepaliveIntervalMs, 15_000);
  await advanceInSteps(clock, 10_000, 100);
  assert.equal(far.packets.length, 0);
  flowS = 4.5;
  media.keepaliveSettingChanged();
  assert.equal(media.keepaliveIntervalMs, 4_500);
  await advanceInSteps(clock, 10_000, 100);
  assert.equal(far.packets.length, 2, 'keep-alives 4.5 and 9 s after the change');
});

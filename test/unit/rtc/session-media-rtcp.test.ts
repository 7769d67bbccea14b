// RTCP without rtcp-mux (RFC 3550 §11, RFC 3605): a peer on 127.0.0.1 (plain sockets) offers
// audio on one port and names another for RTCP with a=rtcp. Our reports go from our media socket
// to that RTCP port, none to its RTP port; its receiver reports from its RTCP socket are believed,
// and a report from another address is not.
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { test, type TestContext } from 'node:test';
import { buildRtcpReport, isRtcp } from '../../../src/media/index.js';
import { LocalPortManager } from '../../../src/nat/index.js';
import { SessionMedia } from '../../../src/rtc/session-media.js';
import { FakeClock } from '../../../src/util/index.js';
import { advanceInSteps } from '../../helpers/fake-time.js';

const HOST = '127.0.0.1';

interface Listener {
  readonly socket: Socket;
  readonly port: number;
  readonly rtcp: Array<{ port: number }>;
  rtp: number;
}

async function listener(t: TestContext, address = HOST): Promise<Listener> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, address, r));
  t.after(() => socket.close());
  const l: Listener = { socket, port: socket.address().port, rtcp: [], rtp: 0 };
  socket.on('message', (msg, rinfo) => {
    if (isRtcp(msg)) l.rtcp.push({ port: rinfo.port });
    else l.rtp++;
  });
  return l;
}

const offer = (rtpPort: number, rtcpPort: number): Buffer => Buffer.from([
  'v=0', `o=peer 1 1 IN IP4 ${HOST}`, 's=-', `c=IN IP4 ${HOST}`, 't=0 0',
  `m=audio ${rtpPort} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', `a=rtcp:${rtcpPort}`, 'a=sendrecv', '',
].join('\r\n'));

test('without rtcp-mux our RTCP goes to the peer\'s a=rtcp port from the media port, and its reports from there are believed', async (t) => {
  const clock = new FakeClock(1_000_000);
  const rtp = await listener(t);
  const rtcp = await listener(t);
  const stranger = await listener(t, '127.0.0.2');
  const media = await SessionMedia.open({
    clock, portManager: new LocalPortManager(() => HOST),
    settings: () => ({ localAddress: HOST, portMin: 30000, portMax: 39998, ptimeMs: 20, codecs: ['PCMU'], capture: 'tone:1000' }),
  });
  t.after(() => media.close());
  media.events.on('error', (e) => assert.fail(`${e.context}: ${String(e.error)}`));
  const { negotiated } = media.answerOffer(offer(rtp.port, rtcp.port));
  assert.equal(negotiated.rtcpMux, false);
  media.start();
  await advanceInSteps(clock, 12_000, 20);

  assert.ok(rtp.rtp > 500, `audio to the RTP port (${rtp.rtp})`);
  assert.equal(rtp.rtcp.length, 0, 'no RTCP to the RTP port');
  assert.ok(rtcp.rtcp.length >= 2, `RTCP reports at the a=rtcp port (${rtcp.rtcp.length})`);
  assert.ok(rtcp.rtcp.every((r) => r.port === media.rtp.local.port), 'sent from our media port, the one our SDP names for RTCP');

  const report = (): Uint8Array => buildRtcpReport({ ssrc: 0x1234, cname: 'peer@lab' });
  const before = media.audioStats?.rtcpReceived ?? 0;
  stranger.socket.send(report(), media.rtp.local.port, HOST);
  rtcp.socket.send(report(), media.rtp.local.port, HOST);
  await advanceInSteps(clock, 200, 20);
  assert.equal((media.audioStats?.rtcpReceived ?? 0) - before, 1, 'the peer\'s report counted, the stranger\'s not');
});

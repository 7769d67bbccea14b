// The port manager's STUN provider against a real coturn: the SIP socket and a call's RTP socket
// are mapped by Binding requests sent from those very sockets, and the RTC client advertises the
// answer in its Contact and SDP. (On loopback the answer equals the local address; the NAT lab
// shows the same path through real NAT routers.)
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { LocalPortManager, NatPortManager, StunProvider } from '../../src/nat/index.js';
import { RtcClient } from '../../src/rtc/index.js';
import { DEFAULT_TIMERS } from '../../src/sip/transaction/index.js';
import { SystemClock } from '../../src/util/index.js';
import { useCoturn } from './lib/coturn.js';
import { stopAll, waitFor } from './lib/process.js';

const coturnLab = useCoturn();
const clock = new SystemClock();
const base = 52000 + Math.floor(Math.random() * 300) * 10;
let client: RtcClient | undefined;

after(async () => {
  await client?.close();
  await stopAll();
});

test('the SIP and RTP sockets get their mappings from STUN sent from themselves, and the client advertises them', async () => {
  const coturn = await coturnLab();
  const pm = new NatPortManager(() => 'stun', { stun: new StunProvider(async () => coturn.primary, clock) }, new LocalPortManager(() => '127.0.0.1'));
  client = await RtcClient.start({
    clock, addresses: ['127.0.0.1'], sipPort: 0, transports: ['UDP'], timers: () => DEFAULT_TIMERS, userAgent: 'deskphone-agent-test',
    portManager: pm, localAddress: '127.0.0.1',
    media: () => ({ localAddress: '127.0.0.1', portMin: base, portMax: base + 20, codecs: ['PCMU'], ptimeMs: 20, source: { kind: 'silence' } }),
    calls: () => ({ acceptOnlyFromProxy: false, allowDirectIpCalls: true, callWaiting: true, doNotDisturb: false, sessionExpiresS: 0 }),
  });
  assert.deepEqual(client.advertised(), { host: '127.0.0.1', port: client.sipPort });
  assert.equal(pm.lastDecision.via, 'stun', pm.lastDecision.reason);
  const sip = pm.mappings.find((m) => m.kind === 'sip');
  assert.deepEqual(sip?.mapping, { address: '127.0.0.1', port: client.sipPort, via: 'stun' }, 'coturn saw the SIP socket itself');
  // A call to a port nobody answers: its RTP socket is mapped through STUN before the INVITE goes out.
  const s = client.call(`sip:nobody@127.0.0.1:${base + 50}`);
  await waitFor('the RTP socket mapped', () => pm.mappings.some((m) => m.kind === 'rtp'));
  const rtp = pm.mappings.find((m) => m.kind === 'rtp');
  assert.equal(rtp?.mapping.via, 'stun');
  assert.equal(rtp?.mapping.port, rtp?.local.port, 'the answer names the RTP socket\'s own port');
  await waitFor('the session has its media', () => s.media !== undefined);
  assert.equal(s.media?.mapping.via, 'stun');
  s.hangup();
});

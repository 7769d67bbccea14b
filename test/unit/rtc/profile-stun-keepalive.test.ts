// RFC 5626 §4.4.2 through a profile: with a registrar that requires outbound, the flow keep-alive
// is a STUN Binding request on the SIP flow. The answer's XOR-MAPPED-ADDRESS is our mapping; the
// same mapping again keeps the registration as it is, a different one means the NAT rebound the
// flow, so the profile registers a new flow (§4.4.2 last paragraph).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeStunMessage, encodeStunMessage, isStun, STUN_METHOD_BINDING } from '../../../src/nat/stun/index.js';
import { Profile } from '../../../src/rtc/profile.js';
import { ServerLocator } from '../../../src/sip/dns/index.js';
import { makeResponse, type SipRequest, type SipResponse } from '../../../src/sip/message/index.js';
import type { UserAgent } from '../../../src/sip/ua/index.js';
import { FakeClock } from '../../../src/util/index.js';
import { NO_DNS } from '../../helpers/fake-time.js';

const REGISTRAR = { address: '203.0.113.10', port: 5060 };
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A registrar with outbound support (Require: outbound, Flow-Timer 20) that records what reaches it. */
function outboundRegistrar(): { ua: UserAgent; registers: SipRequest[]; stun: Uint8Array[] } {
  const registers: SipRequest[] = [];
  const stun: Uint8Array[] = [];
  let n = 0;
  const ua = {
    newCallId: () => 'c1@deskphone',
    newTag: () => `t${++n}`,
    request: (req: SipRequest): Promise<SipResponse> => {
      registers.push(req);
      const res = makeResponse(req, 200);
      res.headers.set('Via', `SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK${n};received=198.51.100.7;rport=40000`);
      res.headers.set('Require', 'outbound');
      res.headers.set('Flow-Timer', '20');
      res.headers.set('Contact', `<sip:alice@192.168.1.20:5060;ob>;expires=600;+sip.instance="<urn:uuid:00000000-0000-4000-8000-000000000002>";reg-id=1`);
      res.headers.set('Expires', '600');
      return Promise.resolve(res);
    },
    transport: {
      ping: () => Promise.resolve(),
      sendBytes: (bytes: Uint8Array) => {
        if (isStun(bytes)) stun.push(bytes);
        return Promise.resolve();
      },
    },
  };
  return { ua: ua as unknown as UserAgent, registers, stun };
}

/** The registrar's STUN answer to `request`, reporting `mapped` as our reflexive address. */
function answer(request: Uint8Array, mapped: { address: string; port: number }): Uint8Array {
  const req = decodeStunMessage(request);
  return encodeStunMessage({
    method: STUN_METHOD_BINDING, class: 'success', transactionId: req.transactionId,
    attributes: [{ kind: 'xor-mapped-address', address: { family: 'IPv4', ...mapped } }],
  }, { fingerprint: true });
}

test('a STUN keep-alive answer with the same mapping keeps the flow; a new mapping registers a new flow', async () => {
  const clock = new FakeClock();
  const reg = outboundRegistrar();
  const p = new Profile({ id: 'home', registrar: `sip:${REGISTRAR.address}`, user: 'alice', password: 'pw', transport: 'udp', expiresS: 600 }, {
    ua: reg.ua, clock, locator: new ServerLocator(NO_DNS), advertised: () => ({ host: '192.168.1.20', port: 5060 }),
    instanceId: '00000000-0000-4000-8000-000000000002', onState: () => {}, onError: () => {}, keepaliveIntervalS: () => 25, random: () => 0.5,
  });
  p.start();
  await settle();
  assert.equal(reg.registers.length, 1, 'registered once');

  const nextKeepalive = async (): Promise<Uint8Array> => {
    const before = reg.stun.length;
    for (let i = 0; i < 30 && reg.stun.length === before; i++) {
      clock.advance(1000);
      await settle();
    }
    const req = reg.stun.at(-1);
    assert.ok(req && reg.stun.length > before, 'a STUN Binding keep-alive went out on the flow within the Flow-Timer');
    return req;
  };

  const first = await nextKeepalive();
  assert.equal(p.handleNonSip(answer(first, { address: '198.51.100.7', port: 40000 }), REGISTRAR), true, 'the answer is taken as ours');
  const second = await nextKeepalive();
  assert.equal(p.handleNonSip(answer(second, { address: '198.51.100.7', port: 40000 }), REGISTRAR), true);
  await settle();
  assert.equal(reg.registers.length, 1, 'the same mapping again: no new registration');

  const third = await nextKeepalive();
  assert.equal(p.handleNonSip(answer(third, { address: '198.51.100.7', port: 41234 }), REGISTRAR), true);
  for (let i = 0; i < 5; i++) {
    clock.advance(100);
    await settle();
  }
  assert.equal(reg.registers.length, 2, 'a new mapping (the NAT rebound the flow): a new REGISTER');
  // A stray answer (wrong source or transaction) is not ours.
  assert.equal(p.handleNonSip(answer(third, { address: '198.51.100.7', port: 41234 }), { address: '203.0.113.99', port: 5060 }), false);
  p.stop();
});

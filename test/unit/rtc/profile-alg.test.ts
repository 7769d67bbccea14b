// A profile behind a SIP ALG, driven with a fake clock against a registrar that answers the way
// the kernel's SIP helper leaves its answers (LAB-NOTES.md): rport but no received on the Via, and
// our Contact rewritten to the router's public address. The ALG's addresses must not be taken for
// a new mapping (no re-registration loop), and a move to TCP removes the UDP binding first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Profile, type RegistrationEvent } from '../../../src/rtc/profile.js';
import { ServerLocator } from '../../../src/sip/dns/index.js';
import { getContacts, formatUri, makeResponse, type SipRequest, type SipResponse } from '../../../src/sip/message/index.js';
import type { UserAgent } from '../../../src/sip/ua/index.js';
import { FakeClock } from '../../../src/util/index.js';
import { NO_DNS } from '../../helpers/fake-time.js';

const PRIVATE = { host: '192.168.14.2', port: 5060 };
const PUBLIC = '203.0.113.25';
const INSTANCE = '00000000-0000-4000-8000-000000000001';

interface Sent {
  readonly transport: string;
  readonly expires: string | undefined;
  readonly contacts: string[];
}

/** Answers every REGISTER at once, as seen from behind the ALG (UDP) or past it (TCP). */
class RegistrarBehindAlg {
  readonly sent: Sent[] = [];
  refuse: string | undefined;
  private n = 0;

  asUserAgent(): UserAgent {
    const ua = {
      newCallId: () => 'c1@deskphone',
      newTag: () => `t${++this.n}`,
      request: (req: SipRequest, dest: { transport: string }) => this.answer(req, dest.transport),
      transport: { ping: () => Promise.resolve(), sendBytes: () => Promise.resolve() },
    };
    return ua as unknown as UserAgent;
  }

  private answer(req: SipRequest, transport: string): Promise<SipResponse> {
    const contacts = getContacts(req).flatMap((c) => (c === '*' ? [] : [`${formatUri(c.uri)}${c.params.has('expires') ? `;expires=${c.params.get('expires')}` : ''}`]));
    this.sent.push({ transport, expires: req.headers.get('Expires') ?? undefined, contacts });
    if (this.refuse === transport) return Promise.reject(new Error(`${transport} connect to 203.0.113.10:5060 failed: ECONNREFUSED`));
    const res = makeResponse(req, 200);
    const udp = transport === 'UDP';
    // The helper rewrote our Via to the public address, so kamailio wrote no received; on the way
    // back it put our private sent-by back. Past the ALG (TCP) received names the router.
    res.headers.set('Via', udp ? `SIP/2.0/UDP ${PRIVATE.host}:${PRIVATE.port};branch=z9hG4bK${this.n};rport=${PRIVATE.port}` : `SIP/2.0/TCP ${PRIVATE.host}:${PRIVATE.port};branch=z9hG4bK${this.n};received=${PUBLIC};rport=40312`);
    const expires = req.headers.get('Expires') ?? '600';
    if (expires !== '0') res.headers.append('Contact', `<sip:alice@${udp ? PUBLIC : PRIVATE.host}:5060${udp ? '' : ';transport=tcp'};ob>;expires=${expires};+sip.instance="<urn:uuid:${INSTANCE}>";reg-id=1`);
    res.headers.set('Expires', expires);
    return Promise.resolve(res);
  }
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

function profileBehindAlg(registrar: RegistrarBehindAlg, clock: FakeClock, states: RegistrationEvent[]): Profile {
  return new Profile({ id: 'home', registrar: 'sip:203.0.113.10', user: 'alice', password: 'pw', transport: 'udp', expiresS: 600 }, {
    ua: registrar.asUserAgent(), clock, locator: new ServerLocator(NO_DNS), advertised: () => PRIVATE, instanceId: INSTANCE,
    onState: (e) => states.push(e), onError: () => {}, keepaliveIntervalS: () => 25, random: () => 0.5,
  });
}

test('behind a SIP ALG the rewritten Via and Contact never make the profile re-register: one REGISTER per refresh for an hour', async () => {
  const clock = new FakeClock();
  const registrar = new RegistrarBehindAlg();
  const states: RegistrationEvent[] = [];
  const p = profileBehindAlg(registrar, clock, states);
  p.start();
  await settle();
  for (let s = 0; s < 3600; s += 5) {
    clock.advance(5000);
    await settle();
  }
  // Refreshed at half the 600 s the registrar granted: at 300, 600, ... 3600 s.
  assert.equal(registrar.sent.length, 1 + 12, `REGISTERs sent: ${registrar.sent.length}`);
  for (const r of registrar.sent) {
    assert.equal(r.transport, 'UDP');
    assert.deepEqual(r.contacts, ['sip:alice@192.168.14.2:5060;ob'], 'our own Contact every time, never the ALG\'s and never a removal');
  }
  assert.deepEqual(states.map((e) => e.state), ['registering', ...Array<string>(13).fill('registered')], 'registered, then only refreshed: never back to registering');
  assert.equal(p.state, 'registered');
  assert.deepEqual(p.registrationFlow, { transport: 'UDP', address: '203.0.113.10', port: 5060, reliable: false });
});

test('moving to TCP un-registers the UDP binding first, then registers over TCP; the account setting stays udp', async () => {
  const clock = new FakeClock();
  const registrar = new RegistrarBehindAlg();
  const states: RegistrationEvent[] = [];
  const p = profileBehindAlg(registrar, clock, states);
  p.start();
  await settle();
  await p.changeTransport('TCP');
  await settle();
  const [first, removal, overTcp] = registrar.sent;
  assert.equal(registrar.sent.length, 3);
  assert.deepEqual(first, { transport: 'UDP', expires: '600', contacts: ['sip:alice@192.168.14.2:5060;ob'] });
  assert.deepEqual(removal, { transport: 'UDP', expires: '0', contacts: ['sip:alice@192.168.14.2:5060;ob'] }, 'the UDP binding is removed over UDP, through the ALG that rewrote it');
  assert.deepEqual(overTcp, { transport: 'TCP', expires: '600', contacts: ['sip:alice@192.168.14.2:5060;transport=tcp;ob'] });
  assert.deepEqual(states.map((e) => e.state), ['registering', 'registered', 'unregistered', 'registering', 'registered']);
  assert.equal(p.transportName, 'TCP');
  assert.equal(p.config.transport, 'udp');
  assert.equal(p.registrationFlow?.transport, 'TCP');
  clock.advance(301_000);
  await settle();
  assert.equal(registrar.sent.at(-1)?.transport, 'TCP', 'refreshes stay on TCP');
  assert.equal(registrar.sent.length, 4);
});

test('moved to TLS, a registrar URI written with :5060 is asked on 5061', async () => {
  const clock = new FakeClock();
  const registrar = new RegistrarBehindAlg();
  const p = new Profile({ id: 'home', registrar: 'sip:203.0.113.10:5060', user: 'alice', password: 'pw', transport: 'udp', expiresS: 600 }, {
    ua: registrar.asUserAgent(), clock, locator: new ServerLocator(NO_DNS), advertised: () => PRIVATE, instanceId: INSTANCE, onState: () => {}, onError: () => {},
  });
  p.start();
  await settle();
  await p.changeTransport('TLS');
  await settle();
  assert.deepEqual(p.registrationFlow, { transport: 'TLS', address: '203.0.113.10', port: 5061, reliable: true });
  await p.changeTransport('TCP');
  await settle();
  assert.deepEqual(p.registrationFlow, { transport: 'TCP', address: '203.0.113.10', port: 5060, reliable: true });
});

test('a refused TCP connection fails the registration, and moving back to UDP registers there again', async () => {
  const clock = new FakeClock();
  const registrar = new RegistrarBehindAlg();
  const states: RegistrationEvent[] = [];
  const p = profileBehindAlg(registrar, clock, states);
  registrar.refuse = 'TCP';
  p.start();
  await settle();
  await p.changeTransport('TCP');
  await settle();
  assert.equal(states.at(-1)?.state, 'failed');
  assert.match(states.at(-1)?.reason ?? '', /ECONNREFUSED/);
  await p.changeTransport('UDP');
  await settle();
  assert.equal(states.at(-1)?.state, 'registered');
  assert.equal(p.transportName, 'UDP');
  assert.deepEqual(registrar.sent.map((s) => `${s.transport} ${s.expires}`), ['UDP 600', 'UDP 0', 'TCP 600', 'UDP 600'], 'nothing is sent to remove a binding TCP never got');
});

// The RTC client against real peers on loopback: kamailio as registrar and record-routing proxy
// with digest credentials, baresip as the far-end phone (a 1 kHz tone as its microphone, WAV
// recording of what it hears). Calls both ways through kamailio, hold/resume, transfer.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, test } from 'node:test';
import { goertzelAmplitude } from '../../src/media/index.js';
import { LocalPortManager } from '../../src/nat/index.js';
import { RtcClient, type RtcEvents, type Session, type SessionState } from '../../src/rtc/index.js';
import { DEFAULT_TIMERS } from '../../src/sip/transaction/index.js';
import { SystemClock } from '../../src/util/index.js';
import { startBaresip, type Baresip } from './lib/baresip.js';
import { startKamailio, type Kamailio } from './lib/kamailio.js';
import { stopAll, waitFor } from './lib/process.js';
import { nextIncomingCall } from './lib/rtc-wait.js';

const clock = new SystemClock();
const base = 42000 + Math.floor(Math.random() * 500) * 10;
let kam: Kamailio;
let bob: Baresip;
let carol: Baresip;
let client: RtcClient;
const seen: Array<{ event: keyof RtcEvents; payload: unknown }> = [];

before(async () => {
  kam = await startKamailio({ address: '127.0.0.1', port: base, users: { alice: 'alice-pw', bob: 'bob-pw', carol: 'carol-pw', erin: 'erin-pw' } });
  const outbound = `outbound="sip:127.0.0.1:${base}"`;
  bob = await startBaresip({ address: '127.0.0.1', sipPort: base + 1, consPort: base + 50, rtpPorts: [base + 100, base + 199], account: `<sip:bob@lab.test>;${outbound};auth_pass=bob-pw;answermode=auto;audio_codecs=PCMU,PCMA;regint=600` });
  carol = await startBaresip({ address: '127.0.0.1', sipPort: base + 3, consPort: base + 60, rtpPorts: [base + 200, base + 299], toneHz: 600, account: `<sip:carol@lab.test>;${outbound};auth_pass=carol-pw;answermode=auto;audio_codecs=PCMU;regint=600` });
  client = await RtcClient.start({
    clock, addresses: ['127.0.0.1'], sipPort: 0, transports: ['UDP', 'TCP'], timers: () => DEFAULT_TIMERS, userAgent: 'deskphone-agent-test',
    portManager: new LocalPortManager(() => '127.0.0.1'), localAddress: '127.0.0.1',
    media: () => ({ localAddress: '127.0.0.1', portMin: base + 300, portMax: base + 399, codecs: ['PCMU', 'PCMA'], ptimeMs: 20, source: { kind: 'tone', frequencyHz: 1000 } }),
    onLog: (err, ctx) => process.env['DEBUG_RTC'] && console.error(`# ${ctx}: ${err instanceof Error ? err.message : String(err)}`),
    calls: () => ({ acceptOnlyFromProxy: true, allowDirectIpCalls: false, callWaiting: true, doNotDisturb: false, sessionExpiresS: 1800 }),
  });
  for (const event of ['registrationStateChanged', 'sessionStateChanged', 'incomingCall', 'mediaChanged', 'error', 'transferRequested'] as const) {
    client.events.on(event, (payload) => seen.push({ event, payload }));
  }
  await Promise.all([bob.waitForLog(/bob@lab.test.*200 OK|registered successfully/i), carol.waitForLog(/carol@lab.test.*200 OK|registered successfully/i)]);
});

after(async () => {
  await client?.close();
  await kam?.stop();
  await stopAll();
});

function waitState(s: Session, state: SessionState, timeoutMs = 10_000): Promise<void> {
  return waitFor(`call ${s.id} to be ${state} (now ${s.state})`, () => s.state === state, timeoutMs);
}

function rxPackets(s: Session): number {
  return s.media?.counters.received ?? 0;
}

test('registers with digest at kamailio, with the Contact from the port manager, and measures it', async () => {
  const t0 = performance.now();
  const p = client.addProfile({ id: 'alice', registrar: 'sip:lab.test', proxy: `sip:127.0.0.1:${base}`, user: 'alice', password: 'alice-pw', transport: 'udp', expiresS: 600 });
  await waitFor('alice registered', () => p.state === 'registered');
  console.log(`# registration with digest to kamailio: ${(performance.now() - t0).toFixed(1)} ms`);
  assert.equal(p.expiresS, 600);
  assert.match(p.contact ?? '', new RegExp(`^<sip:alice@127\\.0\\.0\\.1:${client.sipPort};ob>`));
  assert.match(p.contact ?? '', /\+sip\.instance="<urn:uuid:[0-9a-f-]{36}>"/);
  const events = seen.filter((e) => e.event === 'registrationStateChanged').map((e) => (e.payload as { state: string }).state);
  assert.deepEqual(events, ['registering', 'registered']);
});

test('calls baresip through kamailio: answered, RTP both ways, our tone is heard, hang up with BYE', async () => {
  const s = client.call('bob');
  await waitState(s, 'connected');
  await waitFor('RTP from baresip', () => rxPackets(s) >= 50, 5000);
  await waitFor('our RTP out', () => (s.media?.counters.sent ?? 0) >= 50, 5000);
  assert.equal(s.media?.negotiated?.codec.name, 'PCMU');
  s.hangup();
  await waitState(s, 'ended');
  assert.equal(s.endReason, 'hangup');
  await bob.waitForLog(/terminated|closed/i);
  const heard = bob.receivedAudio();
  assert.ok(heard && heard.samples.length > 4000, 'baresip recorded what it received');
  const tail = heard.samples.subarray(Math.floor(heard.samples.length / 3));
  const at1k = goertzelAmplitude(tail, 1000, heard.rateHz);
  const at600 = goertzelAmplitude(tail, 600, heard.rateHz);
  assert.ok(at1k > 1000 && at1k > 10 * at600, `our 1 kHz tone reached baresip (1 kHz ${at1k.toFixed(0)}, 600 Hz ${at600.toFixed(0)})`);
});

test('baresip calls us through kamailio: we ring, answer, get RTP, and the far end hangs up', async () => {
  const incoming = nextIncomingCall(client, 10_000, () => `baresip said: ${bob.process.output().slice(-1500)}`);
  await bob.command('/dial sip:alice@lab.test');
  const s = await incoming;
  const id = s.id;
  assert.equal(s.direction, 'in');
  assert.equal(s.state, 'incoming');
  client.answer(id);
  await waitState(s, 'connected');
  await waitFor('RTP from baresip', () => rxPackets(s) >= 25, 5000);
  await bob.command('/hangup');
  await waitState(s, 'ended');
  assert.equal(s.endReason, 'remote-hangup');
});

test('hold and resume with re-INVITE: sendonly then sendrecv; baresip keeps the call', async () => {
  const s = client.call('bob');
  await waitState(s, 'connected');
  await client.hold(s.id);
  assert.equal(s.state, 'held');
  assert.equal(s.media?.negotiated?.localDirection, 'sendonly');
  await client.resume(s.id);
  assert.equal(s.state, 'connected');
  assert.equal(s.media?.negotiated?.localDirection, 'sendrecv');
  const before = rxPackets(s);
  await waitFor('RTP flows again', () => rxPackets(s) >= before + 10, 5000);
  s.hangup();
  await waitState(s, 'ended');
});

test('blind transfer: we REFER bob to carol, bob calls carol, the NOTIFY 200 ends our call', async () => {
  const s = client.call('bob');
  await waitState(s, 'connected');
  await client.transfer(s.id, 'carol');
  await waitState(s, 'ended', 15_000);
  assert.equal(s.endReason, 'transferred');
  await carol.waitForLog(/bob@lab.test|Call established/i, 10_000);
  await bob.command('/hangup');
});

test('an INVITE straight from a stranger (a SIP scanner) is refused with 403 and the phone does not ring', async () => {
  const before = seen.filter((e) => e.event === 'incomingCall').length;
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const lport = sock.address().port;
  const answer = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no final response to the scanner')), 5000);
    sock.on('message', (m) => {
      const line = m.toString('latin1').split('\r\n')[0] ?? '';
      if (!/^SIP\/2\.0 1\d\d/.test(line)) {
        clearTimeout(timer);
        resolve(line);
      }
    });
  });
  const invite = [
    `INVITE sip:100@127.0.0.1:${client.sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${lport};branch=z9hG4bKscan${lport};rport`,
    'Max-Forwards: 70', `From: "scanner" <sip:100@127.0.0.1:${lport}>;tag=s1`, `To: <sip:100@127.0.0.1:${client.sipPort}>`,
    `Call-ID: scan-${lport}@127.0.0.1`, 'CSeq: 1 INVITE', `Contact: <sip:100@127.0.0.1:${lport}>`, 'Content-Length: 0', '', '',
  ].join('\r\n');
  sock.send(invite, client.sipPort, '127.0.0.1');
  try {
    assert.match(await answer, /^SIP\/2\.0 403 /);
  } finally {
    sock.close();
  }
  assert.equal(seen.filter((e) => e.event === 'incomingCall').length, before, 'the phone did not ring');
});

test('with a SIP Outbound registrar (RFC 5626) the flow is kept alive by STUN that kamailio answers', async () => {
  const obPort = base + 70;
  const ob = await startKamailio({ address: '127.0.0.1', port: obPort, users: { dave: 'dave-pw' }, outbound: true });
  const c = await RtcClient.start({
    clock, addresses: ['127.0.0.1'], sipPort: 0, transports: ['UDP'], timers: () => DEFAULT_TIMERS, userAgent: 'deskphone-agent-test',
    portManager: new LocalPortManager(() => '127.0.0.1'), localAddress: '127.0.0.1', keepaliveIntervalS: () => 1,
    media: () => ({ localAddress: '127.0.0.1', portMin: base + 400, portMax: base + 420, codecs: ['PCMU'], ptimeMs: 20, source: { kind: 'silence' } }),
    calls: () => ({ acceptOnlyFromProxy: true, allowDirectIpCalls: false, callWaiting: true, doNotDisturb: false, sessionExpiresS: 0 }),
  });
  const stunAnswers: number[] = [];
  try {
    const p = c.addProfile({ id: 'dave', registrar: 'sip:lab.test', proxy: `sip:127.0.0.1:${obPort}`, user: 'dave', password: 'dave-pw', transport: 'udp', expiresS: 600 });
    await waitFor('dave registered', () => p.state === 'registered');
    const original = p.handleNonSip.bind(p);
    p.handleNonSip = (bytes, source) => {
      const mine = original(bytes, source);
      if (mine) stunAnswers.push(Date.now());
      return mine;
    };
    await waitFor('two STUN keep-alive answers from kamailio', () => stunAnswers.length >= 2, 8000);
    assert.equal(p.state, 'registered', 'the flow stays registered');
  } finally {
    await c.close();
    await ob.stop();
  }
});

test('a new local address re-registers at once with the new Contact and removes the old binding', async () => {
  let local = '127.0.0.1';
  const c = await RtcClient.start({
    clock, addresses: ['0.0.0.0'], sipPort: 0, transports: ['UDP'], timers: () => DEFAULT_TIMERS, userAgent: 'deskphone-agent-test',
    portManager: new LocalPortManager(() => local), localAddress: '127.0.0.1',
    media: () => ({ localAddress: local, portMin: base + 430, portMax: base + 450, codecs: ['PCMU'], ptimeMs: 20, source: { kind: 'silence' } }),
    calls: () => ({ acceptOnlyFromProxy: true, allowDirectIpCalls: false, callWaiting: true, doNotDisturb: false, sessionExpiresS: 0 }),
  });
  try {
    const p = c.addProfile({ id: 'erin', registrar: 'sip:lab.test', proxy: `sip:127.0.0.1:${base}`, user: 'erin', password: 'erin-pw', transport: 'udp', expiresS: 600 });
    await waitFor('registered', () => p.state === 'registered');
    assert.match(p.contact ?? '', /@127\.0\.0\.1:/);
    const states: string[] = [];
    const off = c.events.on('registrationStateChanged', (e) => states.push(`${e.state} ${e.contact ?? ''}`));
    local = '127.0.0.2';
    await c.refreshMapping();
    await waitFor('registered with the new Contact', () => states.some((s) => s.startsWith('registered') && s.includes('@127.0.0.2:')));
    off();
    assert.match(p.contact ?? '', /@127\.0\.0\.2:/);
    assert.equal(p.bindings.length, 1, `only the new binding is left: ${p.bindings.join(', ')}`);
    assert.match(p.bindings[0] ?? '', /@127\.0\.0\.2:/);
  } finally {
    await c.close();
  }
});

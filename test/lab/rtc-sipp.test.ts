// The RTC client against SIPp on loopback, dialled directly by IP (no proxy, no profile): reliable
// early media both ways (RFC 3262), CANCEL both ways, hold by a re-INVITE from the far end
// (RFC 6337), a REFER to a second SIPp (RFC 3515), re-INVITE glare (491 and the RFC 3261 §14.1
// wait), and far ends that never answer an INVITE or a re-INVITE (Timer B with a short T1).
// SIPp checks what we send (scenarios in sipp/rtc-*.xml); where it plays RTP, it replays the A-law
// capture shipped with sip-tester. SIPP_TRACE=1 keeps SIPp's message log in its temporary folder.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { LocalPortManager } from '../../src/nat/index.js';
import { RtcClient, type MediaChanged, type Session, type SessionState, type SessionStateChanged } from '../../src/rtc/index.js';
import { DEFAULT_TIMERS, type TransactionTimers } from '../../src/sip/transaction/index.js';
import { SystemClock } from '../../src/util/index.js';
import { stopAll, waitFor } from './lib/process.js';
import { startSipp, type SippResult } from './lib/sipp.js';
import { nextIncomingCall } from './lib/rtc-wait.js';

const clock = new SystemClock();
// Per run: SIPp SIP ports at base..base+15, SIPp media ports (4 apart) at base+16..base+47, our RTP
// ports at base+48..base+79.
const base = 40000 + Math.floor(Math.random() * 250) * 80;
let sippSlot = 0;
const clients: RtcClient[] = [];
let client: RtcClient;
const states = new Map<string, SessionState[]>();
const media: MediaChanged[] = [];

async function startClient(timers: TransactionTimers, rtpPorts: readonly [number, number]): Promise<RtcClient> {
  const c = await RtcClient.start({
    clock, addresses: ['127.0.0.1'], sipPort: 0, transports: ['UDP'], timers: () => timers, userAgent: 'deskphone-agent-test',
    portManager: new LocalPortManager(() => '127.0.0.1'), localAddress: '127.0.0.1',
    media: () => ({ localAddress: '127.0.0.1', portMin: rtpPorts[0], portMax: rtpPorts[1], codecs: ['PCMU', 'PCMA'], ptimeMs: 20, source: { kind: 'tone', frequencyHz: 1000 } }),
    onLog: (err, ctx) => process.env['DEBUG_RTC'] && console.error(`# ${ctx}: ${err instanceof Error ? err.message : String(err)}`),
    calls: () => ({ acceptOnlyFromProxy: false, allowDirectIpCalls: true, callWaiting: true, doNotDisturb: false, sessionExpiresS: 1800 }),
  });
  clients.push(c);
  c.events.on('sessionStateChanged', (e: SessionStateChanged) => states.set(e.session, [...(states.get(e.session) ?? []), e.state]));
  c.events.on('mediaChanged', (e) => media.push(e));
  return c;
}

before(async () => {
  client = await startClient(DEFAULT_TIMERS, [base + 48, base + 63]);
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await stopAll();
});

/** Whether something listens on 127.0.0.1:port (UDP), from /proc/net/udp. */
function udpBound(port: number): boolean {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/udp', 'utf8').split('\n').some((line) => line.trim().split(/\s+/)[1] === local);
}

interface SippRun {
  readonly port: number;
  result(): Promise<SippResult>;
}

/** One SIPp call: a UAC scenario calls our client; a UAS scenario waits (bound) for our INVITE. */
async function sipp(scenario: string, calls: 'us' | 'none', extra: readonly string[] = []): Promise<SippRun> {
  const slot = sippSlot++;
  const port = base + slot;
  const run = startSipp({
    scenario, localPort: port, calls: 1, timeoutS: 20,
    ...(calls === 'us' ? { remote: `127.0.0.1:${client.sipPort}` } : {}),
    extra: ['-mi', '127.0.0.1', '-mp', String(base + 16 + 4 * slot), ...(process.env['SIPP_TRACE'] ? ['-trace_msg'] : []), ...extra],
  });
  if (calls === 'none') await waitFor(`SIPp (${scenario}) to listen on ${port}`, () => udpBound(port), 5000);
  return { port, result: () => run.result() };
}

async function passed(run: SippRun): Promise<SippResult> {
  const r = await run.result();
  assert.equal(r.exitCode, 0, r.output);
  assert.equal(r.successful, 1, r.output);
  return r;
}

function waitState(s: Session, state: SessionState, timeoutMs = 10_000): Promise<void> {
  return waitFor(`call ${s.id} to be ${state} (now ${s.state})`, () => s.state === state || (states.get(s.id) ?? []).includes(state), timeoutMs);
}

function rx(s: Session): number {
  return s.media?.counters.received ?? 0;
}

let quick: RtcClient | undefined;

/** A second client with T1 = 50 ms, so Timer B (64*T1) fires after 3.2 s instead of 32 s. */
async function quickClient(): Promise<RtcClient> {
  quick ??= await startClient({ t1Ms: 50, t2Ms: 4000, t4Ms: 5000 }, [base + 64, base + 79]);
  return quick;
}

test('calling SIPp: a reliable 183 with SDP is PRACKed with the right RAck, early media plays, then 200 and BYE', async () => {
  const far = await sipp('rtc-uas-early-media.xml', 'none');
  const s = client.call(`sip:service@127.0.0.1:${far.port}`);
  let rxWhenAnswered = -1;
  const off = client.events.on('sessionStateChanged', (e) => {
    if (e.session === s.id && e.state === 'connected') rxWhenAnswered = rx(s);
  });
  try {
    await waitState(s, 'early');
    await waitState(s, 'connected');
    await waitState(s, 'ended');
  } finally {
    off();
  }
  await passed(far);
  assert.equal(s.endReason, 'remote-hangup');
  assert.deepEqual(states.get(s.id), ['calling', 'early', 'connected', 'ended']);
  const early = media.filter((m) => m.session === s.id && m.early);
  assert.equal(early.length, 1, 'one mediaChanged for the early answer');
  assert.equal(early[0]?.codec, 'PCMA');
  assert.ok(rxWhenAnswered >= 20, `early RTP from SIPp before the 200 (${rxWhenAnswered} packets)`);
});

test('SIPp calls with 100rel: our 183 is reliable with SDP, its PRACK is answered before our 200, then ACK and BYE', async () => {
  const incoming = nextIncomingCall(client, 10_000, () => 'from SIPp');
  const far = await sipp('rtc-uac-early-media.xml', 'us');
  const s = await incoming;
  client.progress(s.id);
  const early = media.filter((m) => m.session === s.id && m.early);
  assert.equal(early.length, 1, 'progress() reported early media');
  assert.equal(early[0]?.codec, 'PCMA');
  // SIPp starts its RTP only when our 200 to its PRACK arrived: RTP here means the PRACK was taken.
  await waitFor('RTP from SIPp after its PRACK', () => rx(s) >= 10, 5000);
  assert.equal(s.state, 'incoming', 'still ringing during early media');
  client.answer(s.id);
  await waitState(s, 'connected');
  await waitState(s, 'ended');
  await passed(far);
  assert.equal(s.endReason, 'remote-hangup');
  assert.deepEqual(states.get(s.id), ['incoming', 'connected', 'ended']);
});

test('SIPp CANCELs while we ring: 200 to the CANCEL, 487 to the INVITE, our call ends as cancelled', async () => {
  const incoming = nextIncomingCall(client, 10_000, () => 'from SIPp');
  const far = await sipp('rtc-uac-cancel.xml', 'us');
  const s = await incoming;
  await waitState(s, 'ended');
  await passed(far);
  assert.equal(s.endReason, 'cancelled');
  assert.deepEqual(states.get(s.id), ['incoming', 'ended']);
});

test('we hang up while SIPp rings: CANCEL with the INVITE branch, 200 and 487, ACK; our call ends as hangup', async () => {
  const far = await sipp('rtc-uas-ring-cancel.xml', 'none');
  const s = client.call(`sip:service@127.0.0.1:${far.port}`);
  await waitState(s, 'early');
  client.hangup(s.id);
  await waitState(s, 'ended');
  await passed(far);
  assert.equal(s.endReason, 'hangup');
  assert.deepEqual(states.get(s.id), ['calling', 'early', 'ending', 'ended']);
});

test('SIPp holds us with a=sendonly: we answer a=recvonly, go held and stop sending; a=sendrecv resumes', async () => {
  const incoming = nextIncomingCall(client, 10_000, () => 'from SIPp');
  const far = await sipp('rtc-uac-hold.xml', 'us');
  const s = await incoming;
  const sentAt: Array<{ state: SessionState; sent: number }> = [];
  const off = client.events.on('sessionStateChanged', (e) => {
    if (e.session === s.id) sentAt.push({ state: e.state, sent: s.media?.counters.sent ?? 0 });
  });
  try {
    client.answer(s.id);
    await waitState(s, 'held');
    assert.equal(s.media?.negotiated?.localDirection, 'recvonly');
    await waitFor('resumed', () => sentAt.length >= 3);
    await waitFor('RTP out again after the resume', () => (s.media?.counters.sent ?? 0) >= (sentAt[2]?.sent ?? 0) + 10, 3000);
    await waitState(s, 'ended');
  } finally {
    off();
  }
  await passed(far);
  assert.equal(s.endReason, 'remote-hangup');
  assert.deepEqual(sentAt.map((x) => x.state), ['connected', 'held', 'connected', 'ended']);
  const [answered, held, resumed] = sentAt;
  assert.ok((held?.sent ?? 0) - (answered?.sent ?? 0) >= 10, `RTP went out before the hold (${JSON.stringify(sentAt)})`);
  assert.equal(resumed?.sent, held?.sent, 'no RTP went out while held');
});

test('SIPp REFERs us to a second SIPp: 202, we call the target, NOTIFY 100 then 200, the transferor hangs up', async () => {
  const target = await sipp('rtc-uas-answer.xml', 'none');
  const incoming = nextIncomingCall(client, 10_000, () => 'from SIPp');
  const targetUri = `sip:target@127.0.0.1:${target.port}`;
  const asked: string[] = [];
  const offAsked = client.events.on('transferRequested', (e) => asked.push(e.target));
  const transferor = await sipp('rtc-uac-refer.xml', 'us', ['-key', 'refer_to', targetUri]);
  const s = await incoming;
  client.answer(s.id);
  await waitState(s, 'connected');
  await waitFor('our call to the transfer target', () => client.sessions.some((x) => x.peer === targetUri));
  const t = client.sessions.find((x) => x.peer === targetUri) as Session;
  offAsked();
  assert.deepEqual(asked, [targetUri], 'the phone hears that the far end transferred the call');
  await waitState(t, 'connected');
  await waitState(s, 'ended');
  assert.equal(s.endReason, 'remote-hangup');
  await passed(transferor);
  await waitFor('RTP from the transfer target', () => rx(t) >= 10, 5000);
  client.hangup(t.id);
  await waitState(t, 'ended');
  await passed(target);
  assert.equal(t.direction, 'out');
  assert.equal(t.endReason, 'hangup');
});

test('re-INVITE glare: we answer SIPp\'s crossing re-INVITE 491, get 491, and retry after 2.1-4 s as Call-ID owner', async () => {
  const far = await sipp('rtc-uas-glare.xml', 'none');
  const s = client.call(`sip:service@127.0.0.1:${far.port}`);
  await waitState(s, 'connected');
  const t0 = performance.now();
  await client.hold(s.id);
  const ms = performance.now() - t0;
  console.log(`# hold after glare took ${ms.toFixed(0)} ms`);
  assert.equal(s.state, 'held');
  assert.equal(s.media?.negotiated?.localDirection, 'sendonly');
  assert.ok(ms >= 2100 && ms < 4500, `the retry came after ${ms.toFixed(0)} ms (RFC 3261 §14.1: 2.1-4 s)`);
  client.hangup(s.id);
  await waitState(s, 'ended');
  await passed(far);
  assert.equal(s.endReason, 'hangup');
});

test('a far end that never answers, not even 100: Timer B (64*T1 with T1 = 50 ms) ends the call as no-answer', async () => {
  const quick = await quickClient();
  const far = await sipp('rtc-uas-silent.xml', 'none');
  const t0 = performance.now();
  const s = quick.call(`sip:service@127.0.0.1:${far.port}`);
  await waitState(s, 'ended', 6000);
  const ms = performance.now() - t0;
  console.log(`# silent far end: call ended after ${ms.toFixed(0)} ms`);
  assert.equal(s.endReason, 'no-answer');
  assert.ok(ms >= 3100 && ms < 5000, `ended at Timer B, 3.2 s (${ms.toFixed(0)} ms)`);
  const r = await passed(far);
  // Timer A: retransmissions at 50, 150, 350, 750, 1550 and 3150 ms; none after Timer B.
  const retrans = Number([...r.output.matchAll(/-+> INVITE\s+1\s+(\d+)/g)].pop()?.[1] ?? NaN);
  assert.ok(retrans >= 5 && retrans <= 6, `SIPp saw ${retrans} INVITE retransmissions`);
});

test('a re-INVITE that gets no response at all ends the call like a 408 (RFC 3261 §12.2.1.2), hold() settles', async () => {
  const quick = await quickClient();
  const far = await sipp('rtc-uas-reinvite-silent.xml', 'none');
  const s = quick.call(`sip:service@127.0.0.1:${far.port}`);
  await waitState(s, 'connected');
  const t0 = performance.now();
  await quick.hold(s.id);
  const ms = performance.now() - t0;
  console.log(`# unanswered re-INVITE: call ended after ${ms.toFixed(0)} ms`);
  assert.equal(s.state, 'ended');
  assert.equal(s.endReason, 'failed');
  assert.ok(ms >= 3100 && ms < 5000, `ended at Timer B, 3.2 s (${ms.toFixed(0)} ms)`);
  await passed(far);
});

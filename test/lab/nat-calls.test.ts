// Calls through real NATs (LAB-NOTES.md): a router of each kind in namespaces, coturn, kamailio and
// baresip (one per phone) on the public side, our RTC client in each phone namespace with
// nat.strategy stun. Each phone registers with the router's public address in its Contact, idles
// longer than three conntrack UDP timeouts (5 s) on 2 s keep-alives, is rung by baresip, then calls
// baresip. Two-way audio is proven by tones, one per side and cell: our microphone is a tone and our
// speaker a WAV file; baresip's microphone is ausine at another frequency and its sndfile module
// records what it decodes. Goertzel on each recording finds the far end's frequency at the level it
// was sent, so one-way audio fails the cell. Beside the matrix: early UDP behind a port-restricted
// router against SIPp playing early media, and the daemon (tone and WAV file as its audio devices)
// behind a router with the kernel's SIP ALG. Every cell runs at once (the idle time dominates); the
// results are printed as a `# ` table.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { startLabBob, type Baresip } from './lib/baresip.js';
import { assertHeard, baresipRecording, dbfs, decRecordings, detected, heardText, listen, ourRecording, tonesText } from './lib/call-tones.js';
import { startKamailio, type Kamailio } from './lib/kamailio.js';
import { NatLab, type NatKind, LAB_BOB as BOB, LAB_DOMAIN as DOMAIN, LAB_KAMAILIO as KAM } from './lib/nat-lab.js';
import { NamespacedDaemon, NatPhone, type Json } from './lib/nat-phone.js';
import { nsExec, runCommand } from './lib/netns.js';
import { startProcess, stopAll, waitFor, type LabProcess } from './lib/process.js';
import { sippScenario } from './lib/sipp.js';

const UDP_TIMEOUT_S = 5;
const KEEPALIVE_S = 2;
const IDLE_MS = 3 * UDP_TIMEOUT_S * 1000 + 1500;
const SIPP = '203.0.113.14';
const RTP = { rtpPortMin: 30000, rtpPortMax: 30100 };
/** RTP packets each way a call waits for before hanging up: 2.5 s of audio at 20 ms. */
const CALL_PACKETS = 125;
/** Our microphone in cell i, and baresip's: no tone is another's or its harmonic. */
const phoneHz = (i: number): number => 1000 + 100 * i;
const bobHz = (i: number): number => 400 + 50 * i;
/** The tone capture device's peak (SineSource's default, about −12 dBFS): the level our tone is sent at. */
const PHONE_TONE_PEAK = 8000;

const MATRIX: ReadonlyArray<{ readonly kind: NatKind; readonly i: number }> = [
  { kind: 'full-cone', i: 0 }, { kind: 'restricted-cone', i: 1 }, { kind: 'port-restricted-cone', i: 2 }, { kind: 'symmetric', i: 3 },
];
const EARLY = 4;
const ALG = 5;
const CONTROL = 6;
const lab = new NatLab([
  ...MATRIX.map(({ kind }) => ({ kind, udpTimeoutS: UDP_TIMEOUT_S })),
  { kind: 'port-restricted-cone', key: 'early', udpTimeoutS: UDP_TIMEOUT_S },
  { kind: 'port-restricted-cone', key: 'alg', sipAlg: true },
  { kind: 'port-restricted-cone', key: 'control', udpTimeoutS: UDP_TIMEOUT_S },
], false);
const users = Object.fromEntries([0, 1, 2, 3, 4, 5, 6].flatMap((i) => [[`phone${i}`, `phone${i}-pw`], [`bob${i}`, `bob${i}-pw`]]));
const dataDir = tempDir('dpa-nat-calls-');
let kam: Kamailio | undefined;
const bobs = new Map<number, Baresip>();
const phones: NatPhone[] = [];
const others: Array<{ stop(): Promise<void> }> = [];
const HEAD = [
  'router', 'registered, public Contact', 'kamailio saw', 'rung after idle', 'far BYE', 'RTP in sent/rcvd', 'RTP out sent/rcvd',
  'we heard in/out (dBFS)', 'baresip heard in/out (dBFS)', 'nat.strategy auto says',
];
const rows: string[][] = [];
const notes: string[] = [];

before(async () => {
  await lab.build();
  for (const a of [KAM, SIPP]) await lab.addPublicAddress(a);
  await lab.addPublicAddress(BOB, true);
  const pub = lab.publicNamespace;
  kam = await startKamailio({ address: KAM, port: 5060, domain: DOMAIN, users, netns: pub });
  await Promise.all([...MATRIX.map((m) => m.i), ALG, CONTROL].map(async (i) => {
    bobs.set(i, await startLabBob({ i, address: BOB, kam: KAM, domain: DOMAIN, netns: pub, toneHz: bobHz(i) }));
  }));
}, { timeout: 40_000 });

after(async () => {
  printTable();
  await Promise.allSettled([...phones, ...others].map((p) => p.stop()));
  await Promise.allSettled([...bobs.values()].map((b) => b.stop()));
  for (const b of bobs.values()) rmSync(b.dir, { recursive: true, force: true });
  await kam?.stop();
  await stopAll();
  await lab.cleanup();
});

function printTable(): void {
  const order = [...MATRIX.map((m) => m.kind as string), 'SIP ALG'];
  rows.sort((a, b) => order.indexOf(a[0] ?? '') - order.indexOf(b[0] ?? ''));
  const width = HEAD.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]): string => `# ${r.map((v, c) => v.padEnd(width[c] ?? 0)).join(' | ')}`.trimEnd();
  console.log([`# NAT matrix: strategy stun, conntrack UDP timeout ${UDP_TIMEOUT_S} s, keep-alive ${KEEPALIVE_S} s, idle ${IDLE_MS / 1000} s`, line(HEAD), ...rows.map(line), ...notes.map((n) => `# ${n}`)].join('\n'));
}

const bob = (i: number): Baresip => {
  const b = bobs.get(i);
  assert.ok(b, `baresip ${i} runs`);
  return b;
};

async function startPhone(key: string, i: number, keepaliveIntervalS = KEEPALIVE_S): Promise<NatPhone> {
  const ns = lab.phone(key);
  const phone = new NatPhone(ns.ns);
  phones.push(phone);
  await phone.call('start', {
    localAddress: ns.addresses[0], sipPort: 5060, strategy: 'stun', stunAddress: lab.stun.primary.address, stunPort: lab.stun.primary.port,
    keepaliveIntervalS, earlyUdp: false, toneHz: phoneHz(i), ...RTP,
  });
  return phone;
}

/** Polls the session until `received` (and `sent`, if given) reach their minimum or the time is up; returns its counters. */
async function rtpAfter(phone: NatPhone, session: string, min: number, timeoutMs: number, minSent = 0): Promise<{ sent: number; received: number }> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await phone.call<{ sent: number; received: number }>('session', { session });
    if ((s.received >= min && s.sent >= minSent) || Date.now() > until) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function endCall(phone: NatPhone, session: string): Promise<void> {
  await phone.call('hangup', { session });
  await phone.waitEvent('sessionStateChanged', (e) => e.session === session && e.state === 'ended', 5000);
}

const rtpText = (c: { sent: number; received: number }): string => `${c.sent}/${c.received}`;

describe('calls through each NAT type, early UDP and a SIP ALG', { concurrency: true }, () => {
  for (const { kind, i } of MATRIX) {
    const symmetric = kind === 'symmetric';
    test(`behind a ${kind} router: public Contact by STUN, rung after ${IDLE_MS / 1000} s idle, calls out${symmetric ? ' (media needs a relay)' : ', tones heard both ways on both calls'}`, { timeout: 80_000 }, async () => {
      const wan = lab.phone(kind).publicAddress;
      const phone = await startPhone(kind, i);
      const user = `phone${i}`;
      await phone.call('register', { profile: 'main', registrar: `sip:${DOMAIN}`, proxy: `sip:${KAM}:5060`, user, password: `${user}-pw` });
      const reg = await phone.waitEvent('registrationStateChanged', (e) => e.state === 'registered', 10_000);
      const prof = await phone.call<{ contact: string; bindings: string[]; serverReflexive: { address?: string; port?: number } | null; sipAlg: unknown }>('profile', { profile: 'main' });
      const contact = /@([\d.]+):(\d+)/.exec(prof.contact);
      assert.equal(contact?.[1], wan, `the Contact names the router's public address: ${prof.contact}`);
      assert.ok(prof.bindings.some((b) => b.includes(`@${wan}:${contact?.[2]}`)), `kamailio's binding is the public Contact: ${prof.bindings.join(', ')}`);
      assert.equal(prof.sipAlg, null, 'no SIP ALG on this router');
      const seenPort = prof.serverReflexive?.port;
      // Symmetric: coturn and kamailio see the phone on different public ports; kamailio's rport/received
      // (fix_nated_register) still reach it over the registration's flow.
      if (symmetric) assert.notEqual(String(seenPort), contact?.[2], 'a symmetric NAT maps the flow to kamailio to another port than STUN saw');
      else assert.equal(String(seenPort), contact?.[2], 'kamailio sees the port STUN saw');

      const auto = phone.call<{ natType: string; decision: { via: string; reason: string } }>('auto-decision', {
        localAddress: lab.phone(kind).addresses[1], stunAddress: lab.stun.primary.address, stunPort: lab.stun.primary.port,
      }, 15_000);
      await new Promise((r) => setTimeout(r, IDLE_MS)); // the subject of the test: time passing with only keep-alives
      const decided = await auto;
      assert.equal(decided.natType, kind);
      if (symmetric) assert.match(decided.decision.reason, /relay \(TURN\/ICE\) is needed/, 'auto reports that relaying is needed');
      const regStates = phone.events.filter((e) => e.event === 'registrationStateChanged').map((e) => (e.payload as Json).state);
      assert.deepEqual(regStates, ['registering', 'registered'], 'the registration held through the idle time');

      const dialAt = Date.now();
      const heardIn = join(dataDir, `${kind}-heard-in.wav`);
      await phone.call('set', { playbackFile: heardIn });
      const bobKnownIn = decRecordings(bob(i));
      await bob(i).command(`/dial sip:${user}@${DOMAIN}`);
      const ring = await phone.waitEvent('incomingCall', () => true, 8000);
      const ringMs = Date.now() - dialAt;
      const inbound = String(ring.payload.session);
      await phone.call('answer', { session: inbound });
      await phone.waitEvent('sessionStateChanged', (e) => e.session === inbound && e.state === 'connected', 5000);
      // Symmetric: nothing comes in, so the call lasts until we sent as much as the others do.
      const inRtp = await rtpAfter(phone, inbound, symmetric ? 0 : CALL_PACKETS, 6000, CALL_PACKETS);
      // baresip hangs up: its BYE goes by the route set (kamailio) to our Contact. Behind a symmetric
      // NAT that Contact is the port coturn saw, open to coturn only, so the BYE is lost there.
      await bob(i).command('/hangup');
      const ended = await phone.waitEvent('sessionStateChanged', (e) => e.session === inbound && e.state === 'ended', symmetric ? 3000 : 5000).catch(() => undefined);
      if (!symmetric) assert.equal(ended?.payload.endReason, 'remote-hangup', 'the far end\'s BYE reached us');
      if (!ended) await endCall(phone, inbound);
      const bobIn = await baresipRecording(bob(i), bobKnownIn);

      const heardOut = join(dataDir, `${kind}-heard-out.wav`);
      await phone.call('set', { playbackFile: heardOut });
      const bobKnownOut = decRecordings(bob(i));
      const { session: outbound } = await phone.call<{ session: string }>('call', { target: `bob${i}` });
      await phone.waitEvent('sessionStateChanged', (e) => e.session === outbound && e.state === 'connected', 8000);
      const outRtp = await rtpAfter(phone, outbound, symmetric ? 0 : CALL_PACKETS, 6000, CALL_PACKETS);
      await endCall(phone, outbound);
      const bobOut = await baresipRecording(bob(i), bobKnownOut);

      // What baresip sent is in its own -enc.wav: the level our side should hear.
      const bobPeak = listen(bobIn.sent, bobHz(i), phoneHz(i)).amplitude;
      const we = { in: listen(await ourRecording(heardIn), bobHz(i), phoneHz(i)), out: listen(await ourRecording(heardOut), bobHz(i), phoneHz(i)) };
      const they = { in: listen(bobIn.heard, phoneHz(i), bobHz(i)), out: listen(bobOut.heard, phoneHz(i), bobHz(i)) };
      rows.push([
        kind, `${Math.round(reg.atMs)} ms ${wan}:${contact?.[2]}`, `:${seenPort}`, `${ringMs} ms`, ended ? 'arrived' : 'lost', rtpText(inRtp), rtpText(outRtp),
        tonesText(bobHz(i), we.in, we.out, bobPeak), tonesText(phoneHz(i), they.in, they.out, PHONE_TONE_PEAK), decided.decision.reason.replace(/^auto: /, ''),
      ]);
      assert.ok(inRtp.sent >= CALL_PACKETS && outRtp.sent >= CALL_PACKETS, `we send RTP on both calls (${rtpText(inRtp)}, ${rtpText(outRtp)})`);
      assert.ok(dbfs(bobPeak) > -20, `baresip sent its ${bobHz(i)} Hz tone (${dbfs(bobPeak).toFixed(1)} dBFS in its -enc.wav)`);
      if (symmetric) {
        // Our SDP names the port coturn saw; baresip sends there, and a symmetric NAT lets in only coturn.
        assert.equal(inRtp.received + outRtp.received, 0, 'no RTP reaches us through a symmetric NAT without a relay');
        assert.ok(!detected(we.in, bobPeak) && !detected(we.out, bobPeak), 'we hear nothing of baresip');
        notes.push(`symmetric without a relay: baresip heard our ${phoneHz(i)} Hz ${detected(they.in, PHONE_TONE_PEAK) && detected(they.out, PHONE_TONE_PEAK) ? 'on both calls' : 'not on both calls'}, we heard nothing: one-way audio`);
      } else {
        assert.ok(inRtp.received >= CALL_PACKETS, `RTP from baresip on the incoming call (${rtpText(inRtp)})`);
        assert.ok(outRtp.received >= CALL_PACKETS, `RTP from baresip on the outgoing call (${rtpText(outRtp)})`);
        assertHeard('we heard baresip on the incoming call', we.in, bobPeak);
        assertHeard('we heard baresip on the outgoing call', we.out, bobPeak);
        assertHeard('baresip heard us on the incoming call', they.in, PHONE_TONE_PEAK);
        assertHeard('baresip heard us on the outgoing call', they.out, PHONE_TONE_PEAK);
      }
    });
  }

  test('control: without keep-alives the port-restricted binding is gone after the idle time and the phone is not rung', { timeout: 40_000 }, async () => {
    const phone = await startPhone('control', CONTROL, 0);
    await phone.call('register', { profile: 'main', registrar: `sip:${DOMAIN}`, proxy: `sip:${KAM}:5060`, user: `phone${CONTROL}`, password: `phone${CONTROL}-pw` });
    await phone.waitEvent('registrationStateChanged', (e) => e.state === 'registered', 10_000);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    await bob(CONTROL).command(`/dial sip:phone${CONTROL}@${DOMAIN}`);
    const rang = await phone.waitEvent('incomingCall', () => true, 4000).then(() => true, () => false);
    await bob(CONTROL).command('/hangup');
    notes.push(`control, port-restricted with keep-alives off: rung after ${IDLE_MS / 1000} s idle: ${rang ? 'yes' : 'no'}`);
    assert.equal(rang, false, 'kamailio\'s INVITE is dropped by the NAT once the binding expired');
  });

  test('early UDP: behind a port-restricted router, early RTP from the far end gets in before the 200 only with it on', { timeout: 40_000 }, async () => {
    const phone = await startPhone('early', EARLY);
    const before200: Record<string, number> = {};
    // Off first: with it on first, our leftover conntrack entries could let the second call's RTP in.
    for (const on of [false, true]) {
      await phone.call('set', { earlyUdp: on });
      const port = on ? 5081 : 5080;
      const sipp = startSippIn(lab.publicNamespace, port, on ? 6010 : 6000);
      await waitFor(`SIPp on ${SIPP}:${port}`, async () => (await nsExec(lab.publicNamespace, 'ss', ['-Hlun'])).stdout.includes(` ${SIPP}:${port} `), 5000);
      const { session } = await phone.call<{ session: string }>('call', { target: `sip:early@${SIPP}:${port}` });
      await phone.waitEvent('sessionStateChanged', (e) => e.session === session && e.state === 'early', 5000);
      const connected = await phone.waitEvent('sessionStateChanged', (e) => e.session === session && e.state === 'connected', 8000);
      before200[on ? 'on' : 'off'] = Number(connected.payload.received);
      const after200 = await rtpAfter(phone, session, Number(connected.payload.received) + 10, 3000);
      await endCall(phone, session);
      const { code } = await sipp.exited;
      assert.equal(code, 0, `SIPp passed: ${sipp.output().slice(-1500)}`);
      assert.ok(after200.received >= Number(connected.payload.received) + 10, 'RTP flows once we send media ourselves');
    }
    notes.push(`early UDP behind port-restricted: RTP packets received before the 200: off ${before200.off}, on ${before200.on}`);
    assert.equal(before200.off, 0, 'without early UDP the NAT drops the early media');
    assert.ok((before200.on ?? 0) >= 10, `with early UDP the early media gets in (${before200.on} packets)`);
  });

  test('SIP ALG: the daemon behind the kernel SIP helper reports it (log, /api/status), still registers, and its call has tones heard both ways', { timeout: 40_000 }, async () => {
    const ns = lab.phone('alg');
    const heard = join(dataDir, 'alg-heard.wav');
    // One import, run without blocking the other cells (a synchronous CLI call would stall them).
    // The daemon's microphone is a tone and its speaker a WAV file (audio.captureDevice/playbackDevice).
    const settings = join(dataDir, 'alg-settings.json');
    writeFileSync(settings, JSON.stringify({
      'accounts.main.registrar': `sip:${DOMAIN}`, 'accounts.main.proxy': `sip:${KAM}:5060`, 'accounts.main.user': `phone${ALG}`,
      'accounts.main.password': `phone${ALG}-pw`, 'nat.strategy': 'none', 'rtp.portMin': RTP.rtpPortMin, 'rtp.portMax': RTP.rtpPortMax,
      'audio.captureDevice': `tone:${phoneHz(ALG)}`, 'audio.playbackDevice': `file:${heard}`,
    }));
    await runCommand(process.execPath, [CLI, 'registry', 'import', settings, '--data-dir', dataDir]);
    const daemon = new NamespacedDaemon(ns.ns, dataDir, ['--sip-port', '5060', '--sip-address', ns.addresses[0]]);
    others.push(daemon);
    await daemon.ready();
    await daemon.waitLog('registered', (l) => l.msg === 'registration' && l.state === 'registered', 10_000);
    const warned = await daemon.waitLog('the SIP ALG warning', (l) => l.msg === 'SIP ALG detected', 5000);
    type Status = { registrations: Array<{ state: string; contact: string }>; nat: { alg?: boolean; algEvidence?: { kind: string } }; calls: Array<{ id: string; state: string; rtp: { sent: number; received: number } }> };
    const status = (await daemon.api<Status>('GET', '/api/status')).body;
    assert.equal(status.nat.alg, true);
    // kamailio's force_rport writes received= too (RFC 3581); the helper rewrites it to our private address.
    assert.match(status.nat.algEvidence?.kind ?? '', /^via-received-(missing|private)$/);
    assert.equal(status.registrations[0]?.state, 'registered');
    const known = decRecordings(bob(ALG));
    const placed = await daemon.api<{ id: string }>('POST', '/api/calls', { target: `bob${ALG}` });
    assert.equal(placed.status, 201);
    let call: Status['calls'][number] | undefined;
    await waitFor(`the call through the ALG to carry ${CALL_PACKETS} RTP packets both ways`, async () => {
      call = (await daemon.api<Status>('GET', '/api/status')).body.calls.find((c) => c.id === placed.body.id);
      return call?.state === 'connected' && call.rtp.sent >= CALL_PACKETS && call.rtp.received >= CALL_PACKETS;
    }, 10_000, 200).catch((err: unknown) => assert.fail(`${String(err)}; call: ${JSON.stringify(call)}`));
    const hungUp = await daemon.api('DELETE', `/api/calls/${placed.body.id}`);
    assert.ok(hungUp.status < 300, `DELETE /api/calls/${placed.body.id}: ${hungUp.status}`);
    await daemon.waitLog('the call to end', (l) => l.msg === 'call' && l.call === placed.body.id && l.state === 'ended', 5000);
    const bobRec = await baresipRecording(bob(ALG), known);
    const bobPeak = listen(bobRec.sent, bobHz(ALG), phoneHz(ALG)).amplitude;
    const we = listen(await ourRecording(heard), bobHz(ALG), phoneHz(ALG));
    const they = listen(bobRec.heard, phoneHz(ALG), bobHz(ALG));
    const evidence = warned.evidence as Json;
    const contact = /@([\d.]+):(\d+)/.exec(status.registrations[0]?.contact ?? '');
    rows.push([
      'SIP ALG', `yes, ${contact?.[1]}:${contact?.[2]} (ALG rewrites)`, '', '', '', '', call ? rtpText(call.rtp) : '?',
      `${bobHz(ALG)} Hz -/${heardText(we, bobPeak)}`, `${phoneHz(ALG)} Hz -/${heardText(they, PHONE_TONE_PEAK)}`, 'daemon, nat.strategy none',
    ]);
    notes.push(`SIP ALG (kernel helper, daemon on 5060, nat.strategy none): detected ${String(evidence.kind)} (${String(evidence.seen)}) on ${String(evidence.method)}; registered; call out to baresip`);
    assertHeard('the daemon heard baresip through the ALG', we, bobPeak);
    assertHeard('baresip heard the daemon through the ALG', they, PHONE_TONE_PEAK);
  });
});

/** SIPp as the far end in the public namespace; `ip netns exec` execs it, so the PID is SIPp's. */
function startSippIn(ns: string, port: number, mediaPort: number): LabProcess {
  const args = [
    '-sf', sippScenario('nat-uas-early-rtp.xml'), '-i', SIPP, '-p', String(port), '-mi', SIPP, '-mp', String(mediaPort),
    '-m', '1', '-timeout', '20s', '-timeout_error', '-nostdin',
  ];
  const p = startProcess('sipp', 'ip', ['netns', 'exec', ns, 'sipp', ...args], { cwd: dataDir });
  others.push(p);
  return p;
}

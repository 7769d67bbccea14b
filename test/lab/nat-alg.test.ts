// SIP ALG avoidance (nat.sipAlgAvoidance) with the kernel's SIP helper (LAB-NOTES.md "A real SIP
// ALG"): two port-restricted routers that run it on UDP 5060, kamailio on UDP and TCP 5060 doing
// far-end NAT traversal as providers do (nathelper), a baresip far end per phone, and the daemon
// behind each router with nat.strategy none, so that it sends its private address and the ALG
// rewrites it. With avoidance tcp the daemon reports the ALG, un-registers over UDP and registers
// over TCP (kamailio's location holds only a TCP contact), is rung by baresip over that connection,
// and its call out has tones heard both ways (Goertzel, as in nat-calls.test.ts). With avoidance off
// (the default) it reports the ALG, stays on UDP and its call still carries RTP both ways. With tls
// against a registrar without TLS it falls back to TCP. `nat-test --sip` finds the ALG with one OPTIONS.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { goertzelAmplitude } from '../../src/media/index.js';
import { CLI } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { startLabBob, type Baresip } from './lib/baresip.js';
import { assertHeard, baresipRecording, decRecordings, listen, ourRecording } from './lib/call-tones.js';
import { startKamailio, type Kamailio } from './lib/kamailio.js';
import { NatLab, LAB_BOB as BOB, LAB_DOMAIN as DOMAIN, LAB_KAMAILIO as KAM } from './lib/nat-lab.js';
import { NamespacedDaemon, type Json } from './lib/nat-phone.js';
import { nsExec, runCommand } from './lib/netns.js';
import { stopAll, waitFor } from './lib/process.js';

/** RTP packets each way a call waits for: 2.5 s of audio at 20 ms. */
const CALL_PACKETS = 125;
/** The tone capture device's peak (SineSource's default): the level our tone is sent at. */
const PHONE_TONE_PEAK = 8000;
const CELLS = { tcp: { i: 1, phoneHz: 1100, bobHz: 450 }, off: { i: 2, phoneHz: 1300, bobHz: 550 } } as const;
const TLS_CELL = 3;

const lab = new NatLab([
  { kind: 'port-restricted-cone', key: 'alg-tcp', sipAlg: true },
  { kind: 'port-restricted-cone', key: 'alg-off', sipAlg: true },
  { kind: 'port-restricted-cone', key: 'alg-tls', sipAlg: true },
], false);
const users = Object.fromEntries([1, 2, TLS_CELL].flatMap((i) => [[`phone${i}`, `phone${i}-pw`], [`bob${i}`, `bob${i}-pw`]]));
const dataDir = tempDir('dpa-nat-alg-');
let kam: Kamailio | undefined;
const bobs = new Map<number, Baresip>();
const daemons: NamespacedDaemon[] = [];

type Status = {
  registrations: Array<{ state: string; contact: string }>;
  nat: { alg?: boolean; algEvidence?: { kind: string } | null; algAvoidance?: Array<{ profile: string; state: string; transport: string; reason: string }> };
  calls: Array<{ id: string; state: string; direction: string; rtp: { sent: number; received: number } }>;
};

before(async () => {
  await lab.build();
  await lab.addPublicAddress(KAM);
  await lab.addPublicAddress(BOB, true);
  const pub = lab.publicNamespace;
  kam = await startKamailio({ address: KAM, port: 5060, domain: DOMAIN, users, netns: pub, farEndNat: true, control: true });
  await Promise.all(Object.values(CELLS).map(async ({ i, bobHz }) => {
    bobs.set(i, await startLabBob({ i, address: BOB, kam: KAM, domain: DOMAIN, netns: pub, toneHz: bobHz }));
  }));
}, { timeout: 30_000 });

after(async () => {
  await Promise.allSettled(daemons.map((d) => d.stop()));
  await Promise.allSettled([...bobs.values()].map((b) => b.stop()));
  for (const b of bobs.values()) rmSync(b.dir, { recursive: true, force: true });
  await kam?.stop();
  await stopAll();
  await lab.cleanup();
});

const bob = (i: number): Baresip => {
  const b = bobs.get(i);
  assert.ok(b, `baresip ${i} runs`);
  return b;
};

/** The daemon behind router `key`: nat.strategy none, its microphone a tone and its speaker a WAV file. */
async function startDaemon(key: string, i: number, phoneHz: number, avoidance: 'off' | 'tcp' | 'tls' | undefined, heard: string): Promise<NamespacedDaemon> {
  const ns = lab.phone(key);
  const dir = join(dataDir, key);
  const settings = join(dataDir, `${key}-settings.json`);
  writeFileSync(settings, JSON.stringify({
    'accounts.main.registrar': `sip:${DOMAIN}`, 'accounts.main.proxy': `sip:${KAM}:5060`, 'accounts.main.user': `phone${i}`, 'accounts.main.password': `phone${i}-pw`,
    'nat.strategy': 'none', ...(avoidance ? { 'nat.sipAlgAvoidance': avoidance } : {}), 'rtp.portMin': 30000 + i * 100, 'rtp.portMax': 30099 + i * 100,
    'audio.captureDevice': `tone:${phoneHz}`, 'audio.playbackDevice': `file:${heard}`,
  }));
  await runCommand(process.execPath, [CLI, 'registry', 'import', settings, '--data-dir', dir]);
  const daemon = new NamespacedDaemon(ns.ns, dir, ['--sip-port', '5060', '--sip-address', ns.addresses[0]]);
  daemons.push(daemon);
  await daemon.ready();
  return daemon;
}

/** Places a call through the API and waits until it carried `packets` RTP packets each way; hangs up. */
async function callOut(daemon: NamespacedDaemon, target: string, packets: number): Promise<Status['calls'][number]> {
  const placed = await daemon.api<{ id: string }>('POST', '/api/calls', { target });
  assert.equal(placed.status, 201);
  let call: Status['calls'][number] | undefined;
  await waitFor(`the call to carry ${packets} RTP packets both ways`, async () => {
    call = (await daemon.api<Status>('GET', '/api/status')).body.calls.find((c) => c.id === placed.body.id);
    return call?.state === 'connected' && call.rtp.sent >= packets && call.rtp.received >= packets;
  }, 10_000, 200).catch((err: unknown) => assert.fail(`${String(err)}; call: ${JSON.stringify(call)}`));
  const hungUp = await daemon.api('DELETE', `/api/calls/${placed.body.id}`);
  assert.ok(hungUp.status < 300, `DELETE /api/calls/${placed.body.id}: ${hungUp.status}`);
  await daemon.waitLog('the call to end', (l) => l.msg === 'call' && l.call === placed.body.id && l.state === 'ended', 5000);
  return call as Status['calls'][number];
}

/** kamailio's location entry of `user`: its contacts' sockets. */
async function locationSockets(user: string): Promise<string[]> {
  const dump = await kam?.userLocation() ?? '';
  const block = dump.split(/AoR: /).find((b) => b.startsWith(`${user}\n`) || b.startsWith(`${user}@`)) ?? '';
  return [...block.matchAll(/Socket: (\S+)/g)].map((m) => m[1] ?? '');
}

// The tone cell runs alone: on this 2-core machine other daemons starting beside it make its audio stutter.
describe('SIP ALG avoidance behind the kernel SIP helper: tcp', () => {
  test('tcp: ALG reported, UDP binding removed, registered over TCP, rung over it, call out with tones heard both ways', { timeout: 45_000 }, async () => {
    const { i, phoneHz, bobHz } = CELLS.tcp;
    const heard = join(dataDir, 'tcp-heard.wav');
    const daemon = await startDaemon('alg-tcp', i, phoneHz, 'tcp', heard);
    const warned = await daemon.waitLog('the SIP ALG warning', (l) => l.msg === 'SIP ALG detected', 10_000);
    assert.equal((warned.evidence as Json).method, 'REGISTER');
    const moved = await daemon.waitLog('the move to TCP', (l) => l.msg === 'SIP ALG avoidance' && l.state === 'moved', 10_000);
    assert.equal(moved.transport, 'TCP');
    const logs = daemon.logs.filter((l) => l.msg === 'SIP ALG avoidance').map((l) => `${String(l.state)}/${String(l.transport)}`);
    assert.deepEqual(logs, ['moving/TCP', 'moved/TCP'], 'one move, no loop');
    const status = (await daemon.api<Status>('GET', '/api/status')).body;
    assert.equal(status.nat.alg, true);
    assert.deepEqual(status.nat.algAvoidance?.map((a) => `${a.profile} ${a.state} ${a.transport}`), ['main moved TCP']);
    assert.equal(status.registrations[0]?.state, 'registered');
    assert.match(status.registrations[0]?.contact ?? '', /;transport=tcp/);
    const sockets = await locationSockets(`phone${i}`);
    assert.deepEqual(sockets, [`tcp:${KAM}:5060`], `kamailio's location holds one TCP contact, the UDP one is gone: ${sockets.join(', ')}`);

    // Incoming: kamailio sends baresip's INVITE over our TCP connection; we ring, then decline.
    await bob(i).command(`/dial sip:phone${i}@${DOMAIN}`);
    const ring = await daemon.waitLog('the phone to ring', (l) => l.msg === 'call' && l.direction === 'in' && l.state === 'incoming', 8000);
    const declined = await daemon.api('DELETE', `/api/calls/${String(ring.call)}`);
    assert.ok(declined.status < 300, `declining: ${declined.status}`);
    await daemon.waitLog('the incoming call to end', (l) => l.msg === 'call' && l.call === ring.call && l.state === 'ended', 5000);

    // Outgoing: tones both ways, with no ALG rewriting the SDP any more (kamailio does, from the TCP source).
    const known = decRecordings(bob(i));
    const call = await callOut(daemon, `bob${i}`, CALL_PACKETS);
    assert.equal(call.direction, 'out');
    const bobRec = await baresipRecording(bob(i), known);
    const bobPeak = goertzelAmplitude(bobRec.sent.samples, bobHz, bobRec.sent.rateHz);
    assertHeard('we heard baresip over the TCP-signalled call', listen(await ourRecording(heard), bobHz, phoneHz), bobPeak);
    assertHeard('baresip heard us over the TCP-signalled call', listen(bobRec.heard, phoneHz, bobHz), PHONE_TONE_PEAK);
  });

});

describe('SIP ALG avoidance behind the kernel SIP helper: off, nat-test, tls', { concurrency: true }, () => {
  test('off (the default): ALG reported and left alone, registered over UDP, the call out carries RTP both ways', { timeout: 30_000 }, async () => {
    const { i, phoneHz } = CELLS.off;
    const daemon = await startDaemon('alg-off', i, phoneHz, undefined, join(dataDir, 'off-heard.wav'));
    await daemon.waitLog('the SIP ALG warning', (l) => l.msg === 'SIP ALG detected', 10_000);
    const stayed = await daemon.waitLog('the decision to stay', (l) => l.msg === 'SIP ALG avoidance', 5000);
    assert.equal(stayed.state, 'stayed');
    assert.equal(stayed.transport, 'UDP');
    const status = (await daemon.api<Status>('GET', '/api/status')).body;
    assert.equal(status.nat.alg, true);
    assert.equal(status.nat.algAvoidance?.[0]?.state, 'stayed');
    assert.equal(status.registrations[0]?.state, 'registered');
    assert.doesNotMatch(status.registrations[0]?.contact ?? '', /transport=/);
    assert.deepEqual(await locationSockets(`phone${i}`), [`udp:${KAM}:5060`]);
    await callOut(daemon, `bob${i}`, 50);
  });

  test('nat-test: an OPTIONS to kamailio through the ALG router finds it; the JSON says how', { timeout: 20_000 }, async () => {
    const phone = lab.phone('alg-off');
    const r = await nsExec(phone.ns, process.execPath, [CLI, 'nat-test', '--sip', `${KAM}:5060`, '--bind', phone.addresses[1], '--json', '--data-dir', join(dataDir, 'nat-test')], { timeoutMs: 15_000, allowFailure: true });
    assert.equal(r.code, 0, `nat-test: ${r.stdout}${r.stderr}`);
    const json = JSON.parse(r.stdout) as { sipAlg?: { server: string; status: number | null; detected: boolean; evidence: { kind: string; method: string; sent: string } | null } };
    assert.equal(json.sipAlg?.server, `${KAM}:5060`);
    assert.equal(json.sipAlg?.status, 200);
    assert.equal(json.sipAlg?.detected, true, JSON.stringify(json.sipAlg));
    assert.match(json.sipAlg?.evidence?.kind ?? '', /^via-received-(missing|private)$/);
    assert.equal(json.sipAlg?.evidence?.method, 'OPTIONS');
    assert.match(json.sipAlg?.evidence?.sent ?? '', new RegExp(`^${phone.addresses[1].replace(/\./g, '\\.')}:`));
  });

  test('tls with a registrar that has no TLS: TLS fails, TCP is next, one TCP contact at kamailio', { timeout: 30_000 }, async () => {
    const daemon = await startDaemon('alg-tls', TLS_CELL, 1500, 'tls', join(dataDir, 'tls-heard.wav'));
    await daemon.waitLog('the move to TCP', (l) => l.msg === 'SIP ALG avoidance' && l.state === 'moved', 15_000);
    const steps = daemon.logs.filter((l) => l.msg === 'SIP ALG avoidance').map((l) => `${String(l.state)}/${String(l.transport)}`);
    assert.deepEqual(steps, ['moving/TLS', 'moving/TCP', 'moved/TCP']);
    const fallback = daemon.logs.find((l) => l.msg === 'SIP ALG avoidance' && l.transport === 'TCP' && l.state === 'moving');
    assert.match(String(fallback?.reason), /^TLS failed \(.+\): registering over TCP instead$/);
    const status = (await daemon.api<Status>('GET', '/api/status')).body;
    assert.match(status.nat.algAvoidance?.[0]?.reason ?? '', /registered over TCP/);
    assert.equal(status.registrations[0]?.state, 'registered');
    assert.deepEqual(await locationSockets(`phone${TLS_CELL}`), [`tcp:${KAM}:5060`]);
  });
});

// The whole daemon behind each cone NAT (full, restricted, port-restricted; LAB-NOTES.md routers
// with 5 s conntrack UDP timeouts), configured as a phone out of the box would be: nat.strategy
// auto, nat.keepaliveIntervalS 0, a STUN server that does RFC 5780 (the lab's coturn), kamailio as
// registrar. Each daemon measures its NAT in the background, registers with the router's public
// address in its Contact, and keeps the flow open at an interval derived from the binding lifetime
// it measured. Behind the port-restricted router, after three UDP timeouts of idle, baresip's call
// still rings the phone. Printed: time from daemon start to "registered with a public Contact"
// per router, with the discovery numbers.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { NatDiscoveryStatus, NatKeepaliveStatus } from '../../src/web/status.js';
import { CLI } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { startBaresip, type Baresip } from './lib/baresip.js';
import { startKamailio, type Kamailio } from './lib/kamailio.js';
import { NatLab, type NatKind, LAB_BOB as BOB, LAB_DOMAIN as DOMAIN, LAB_KAMAILIO as KAM } from './lib/nat-lab.js';
import { NamespacedDaemon, type Json } from './lib/nat-phone.js';
import { ipIn, nsExec, nsSysctl, runCommand } from './lib/netns.js';
import { stopAll } from './lib/process.js';

const UDP_TIMEOUT_S = 5;
const IDLE_MS = 3 * UDP_TIMEOUT_S * 1000 + 1500;
const CONES: ReadonlyArray<{ readonly kind: NatKind; readonly i: number; readonly key?: string }> = [
  { kind: 'full-cone', i: 0 }, { kind: 'restricted-cone', i: 1 }, { kind: 'port-restricted-cone', i: 2 },
  // Most home routers answer a closed UDP port on the LAN with ICMP (as the lab's do); this one
  // drops UPnP (SSDP) and PCP/NAT-PMP silently, the slowest case for `auto` to give up on them.
  { kind: 'port-restricted-cone', i: 3, key: 'silent' },
];
/** The one phone baresip calls after the idle time. */
const RUNG = 2;

const label = (c: { readonly kind: NatKind; readonly key?: string }): string => (c.key ? `${c.kind} (${c.key})` : c.kind);
/** The phone whose address changes under the daemon (no --sip-address: it follows the interface). */
const MOVED = { kind: 'port-restricted-cone' as const, i: 4, key: 'moved' };
const lab = new NatLab([...CONES, MOVED].map(({ kind, key }) => ({ kind, udpTimeoutS: UDP_TIMEOUT_S, ...(key ? { key } : {}) })), false);
const SILENT = `table ip silent {
  chain input {
    type filter hook input priority filter - 10; policy accept;
    iifname "lan0" udp dport { 1900, 5351 } drop
  }
}`;
const users = Object.fromEntries([...CONES, MOVED].map(({ i }) => [`phone${i}`, `phone${i}-pw`]).concat([['bob', 'bob-pw']]));
const root = tempDir('dpa-nat-daemon-');
let kam: Kamailio | undefined;
let bob: Baresip | undefined;
const daemons: NamespacedDaemon[] = [];
const rows: string[][] = [];
const HEAD = ['router', 'start → registered, public Contact', 'start → ready', 'class (verdict in)', 'binding lifetime (measured in)', 'keep-alive', 'nat decision', 'inbound call after idle'];

interface Status {
  registrations: Array<{ account: string; state: string; contact: string | null }>;
  nat: {
    natType: string | null;
    decision?: { via: string | null; reason: string };
    discovery?: NatDiscoveryStatus;
    keepalive?: NatKeepaliveStatus;
  };
}

before(async () => {
  await lab.build();
  const silentRouter = lab.phone('silent').routerNs;
  assert.ok(silentRouter);
  writeFileSync(join(root, 'silent.nft'), SILENT);
  await nsExec(silentRouter, 'nft', ['-f', join(root, 'silent.nft')]);
  await lab.addPublicAddress(KAM);
  await lab.addPublicAddress(BOB, true);
  kam = await startKamailio({ address: KAM, port: 5060, domain: DOMAIN, users, netns: lab.publicNamespace });
  bob = await startBaresip({
    address: BOB, sipPort: 5100, consPort: 5200, rtpPorts: [21000, 21099], netns: lab.publicNamespace,
    account: `<sip:bob@${DOMAIN}>;outbound="sip:${KAM}:5060";auth_pass=bob-pw;answermode=auto;audio_codecs=PCMU;regint=600`,
  });
  await bob.waitForLog(/200 OK|registered successfully/i);
}, { timeout: 40_000 });

after(async () => {
  printTable();
  await Promise.allSettled(daemons.map((d) => d.stop()));
  await bob?.stop();
  await kam?.stop();
  await stopAll();
  await lab.cleanup();
});

function printTable(): void {
  const order = [...CONES, MOVED].map(label);
  rows.sort((a, b) => order.indexOf(a[0] ?? '') - order.indexOf(b[0] ?? ''));
  const width = HEAD.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]): string => `# ${r.map((v, c) => v.padEnd(width[c] ?? 0)).join(' | ')}`.trimEnd();
  console.log([`# the daemon behind cone NATs: nat.strategy auto, nat.keepaliveIntervalS 0, conntrack UDP timeout ${UDP_TIMEOUT_S} s`, line(HEAD), ...rows.map(line)].join('\n'));
}

/** A daemon in the phone's namespace with the settings a phone ships with plus the account and STUN server. */
async function startDaemon(key: string, i: number, pinAddress = true): Promise<{ daemon: NamespacedDaemon; startedAtMs: number }> {
  const ns = lab.phone(key);
  const dataDir = join(root, key);
  const settings = join(root, `${key}.json`);
  writeFileSync(settings, JSON.stringify({
    'accounts.main.registrar': `sip:${DOMAIN}`, 'accounts.main.proxy': `sip:${KAM}:5060`, 'accounts.main.user': `phone${i}`,
    'accounts.main.password': `phone${i}-pw`, 'nat.strategy': 'auto', 'nat.keepaliveIntervalS': 0,
    'nat.stunServer': `${lab.stun.primary.address}:${lab.stun.primary.port}`, 'rtp.portMin': 30000, 'rtp.portMax': 30100,
  }));
  // Asynchronous: a synchronous CLI call would stall the other routers' cells.
  await runCommand(process.execPath, [CLI, 'registry', 'import', settings, '--data-dir', dataDir]);
  const startedAtMs = Date.now();
  const daemon = new NamespacedDaemon(ns.ns, dataDir, ['--sip-port', '5060', ...(pinAddress ? ['--sip-address', ns.addresses[0]] : [])]);
  daemons.push(daemon);
  return { daemon, startedAtMs };
}

async function status(daemon: NamespacedDaemon): Promise<Status> {
  const r = await daemon.api<Status>('GET', '/api/status');
  assert.equal(r.status, 200);
  return r.body;
}

async function pollStatus(daemon: NamespacedDaemon, what: string, until: (s: Status) => boolean, timeoutMs: number): Promise<Status> {
  const end = Date.now() + timeoutMs;
  let last: Status | undefined;
  for (;;) {
    last = await status(daemon);
    if (until(last)) return last;
    if (Date.now() > end) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}; nat: ${JSON.stringify(last.nat)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const logTimeMs = (line: Json): number => Date.parse(String(line.time));

/**
 * Daemons start one after another, each once the one before has registered: four Node processes
 * starting at once on two cores would measure the machine, not the NAT. The rest (lifetime
 * measurement, idle time) overlaps.
 */
let startTurn: Promise<void> = Promise.resolve();
function takeStartTurn(): { wait: Promise<void>; done: () => void } {
  const wait = startTurn;
  let done = (): void => {};
  startTurn = new Promise((resolve) => (done = resolve));
  return { wait, done };
}

describe('the daemon behind cone NATs with nat.strategy auto and keep-alives from the measured binding lifetime', { concurrency: true }, () => {
  for (const cone of CONES) {
    const { kind, i } = cone;
    const key = cone.key ?? kind;
    const rung = i === RUNG;
    test(`behind a ${label(cone)} router: discovers the class and binding lifetime, registers with the public Contact${rung ? `, and is rung after ${IDLE_MS / 1000} s idle` : ''}`, { timeout: 80_000 }, async () => {
      const wan = lab.phone(key).publicAddress;
      const turn = takeStartTurn();
      let daemon: NamespacedDaemon;
      let toRegisteredMs: number;
      let toReadyMs: number;
      try {
        await turn.wait;
        const started = await startDaemon(key, i);
        daemon = started.daemon;
        await daemon.ready(40_000);
        const readyLine = daemon.logs.find((l) => l.msg === 'deskphone-agent ready');
        toReadyMs = readyLine ? logTimeMs(readyLine) - started.startedAtMs : NaN;
        const registered = await daemon.waitLog('registered with the public Contact', (l) => l.msg === 'registration' && l.state === 'registered' && String(l.contact).includes(`@${wan}:`), 40_000);
        toRegisteredMs = logTimeMs(registered) - started.startedAtMs;
      } finally {
        turn.done();
      }
      assert.equal(daemon.logs.some((l) => l.msg === 'registration' && l.state === 'registered' && !String(l.contact).includes(`@${wan}:`)), false, 'never registered with a private Contact first');

      const s = await pollStatus(daemon, 'the class and the binding lifetime', (x) => x.nat.discovery?.state === 'done' && x.nat.keepalive?.source === 'measured', 30_000);
      const d = s.nat.discovery;
      const k = s.nat.keepalive;
      assert.ok(d && k);
      assert.equal(s.nat.natType, kind);
      assert.equal(d.natType, kind);
      assert.equal(d.mapping, 'endpoint-independent');
      assert.ok(d.measuredAt && !Number.isNaN(Date.parse(d.measuredAt)), 'when it was measured');
      assert.ok((d.bindingLifetimeS ?? 0) >= 1 && (d.bindingLifetimeS ?? 99) <= UDP_TIMEOUT_S, `binding lifetime ${d.bindingLifetimeS} s within the ${UDP_TIMEOUT_S} s conntrack timeout`);
      assert.ok(k.intervalS > 0 && k.intervalS < UDP_TIMEOUT_S / 2, `keep-alive ${k.intervalS} s: two fit in the ${UDP_TIMEOUT_S} s binding`);
      assert.deepEqual(k.running, [{ account: 'main', intervalS: k.intervalS }], 'the running keep-alive took the derived interval');
      assert.match(s.nat.decision?.reason ?? '', new RegExp(`${kind} NAT: no UPnP/PCP router answered; STUN, right for a cone NAT`));
      assert.equal(s.nat.decision?.via, 'stun');
      const contact = s.registrations[0]?.contact ?? '';
      assert.match(contact, new RegExp(`@${wan.replace(/\./g, '\\.')}:\\d+`), `the Contact names the router's public address: ${contact}`);

      let ring = '';
      if (rung) {
        const idleFrom = Date.now();
        await new Promise((r) => setTimeout(r, IDLE_MS)); // the subject: only keep-alives cross the NAT meanwhile
        const regs = daemon.logs.filter((l) => l.msg === 'registration').map((l) => l.state);
        assert.deepEqual(regs, ['registering', 'registered'], 'the registration held through the idle time');
        assert.ok(bob, 'baresip runs');
        const dialAt = Date.now();
        await bob.command(`/dial sip:phone${i}@${DOMAIN}`);
        const incoming = await daemon.waitLog('the incoming call', (l) => l.msg === 'call' && l.direction === 'in' && l.state === 'incoming', 8000);
        ring = `rang after ${Math.round((dialAt - idleFrom) / 1000)} s idle, ${Date.now() - dialAt} ms after the dial`;
        await bob.command('/hangup');
        await daemon.waitLog('the call to end', (l) => l.msg === 'call' && l.call === incoming.call && l.state === 'ended', 8000);
      }
      if (process.env['DPA_DUMP_LOGS']) console.log(daemon.logs.map((l) => `${key}: ${String(l.time)} ${String(l.msg)} ${JSON.stringify({ ...l, msg: undefined, time: undefined, pid: undefined, level: undefined, levelName: undefined })}`).join('\n'));
      rows.push([
        label(cone), `${toRegisteredMs} ms (${wan})`, `${toReadyMs} ms`, `${d.natType} (${d.verdictMs} ms)`,
        `${d.bindingLifetimeS} s, gone at ${d.bindingExpiredS ?? '-'} s (${Math.round((d.bindingLifetimeMs ?? 0) / 100) / 10} s)`,
        `${k.intervalS} s`, `via ${s.nat.decision?.via}`, ring || '-',
      ]);
    });
  }

  test('a new local address: the daemon measures the NAT again from it and stays registered with the public Contact', { timeout: 80_000 }, async () => {
    const phone = lab.phone(MOVED.key);
    const [first, second] = phone.addresses;
    // Deleting the primary address would take the secondary with it unless promoted.
    await nsSysctl(phone.ns, 'net.ipv4.conf.eth0.promote_secondaries', 1);
    const turn = takeStartTurn();
    let daemon: NamespacedDaemon;
    try {
      await turn.wait;
      daemon = (await startDaemon(MOVED.key, MOVED.i, false)).daemon;
      await daemon.ready(40_000);
      await daemon.waitLog('registered with the public Contact', (l) => l.msg === 'registration' && l.state === 'registered' && String(l.contact).includes(`@${phone.publicAddress}:`), 40_000);
    } finally {
      turn.done();
    }
    const before = await pollStatus(daemon, 'the first class and binding lifetime', (x) => x.nat.discovery?.natType === MOVED.kind && x.nat.keepalive?.source === 'measured', 30_000);
    assert.equal(before.nat.discovery?.trigger, 'start');
    assert.match(String(before.nat.discovery?.localAddress), new RegExp(`^${first.replace(/\./g, '\\.')}:`));
    await ipIn(phone.ns, ['addr', 'del', `${first}/24`, 'dev', 'eth0']);
    await ipIn(phone.ns, ['route', 'replace', 'default', 'via', first.replace(/\.\d+$/, '.1')]);
    const movedAt = Date.now();
    await daemon.waitLog('the address change', (l) => l.msg === 'local address changed' && l.to === second, 15_000);
    const after = await pollStatus(daemon, 'a verdict from the new address', (x) => x.nat.discovery?.trigger === 'address-change' && x.nat.discovery.natType !== null && x.nat.discovery.state !== 'discovering', 20_000);
    assert.equal(after.nat.discovery?.natType, MOVED.kind);
    assert.equal(after.nat.keepalive?.source, 'measured', 'the last lifetime keeps the keep-alive short while measuring again');
    assert.match(String(after.nat.discovery?.localAddress), new RegExp(`^${second.replace(/\./g, '\\.')}:`));
    const reg = await pollStatus(daemon, 'registered with the public Contact from the new address', (x) => x.registrations[0]?.state === 'registered' && String(x.registrations[0]?.contact).includes(`@${phone.publicAddress}:`), 15_000);
    rows.push([
      label(MOVED), `address ${first} → ${second}: measured again ${Math.round((Date.now() - movedAt) / 100) / 10} s after the change`, '-',
      `${after.nat.discovery?.natType} (${after.nat.discovery?.verdictMs} ms)`, '-', `${after.nat.keepalive?.intervalS} s`, `via ${after.nat.decision?.via}`, reg.registrations[0]?.contact?.replace(/;.*$/, '') ?? '-',
    ]);
  });
});

// Our UPnP IGD and PCP/NAT-PMP clients against a real miniupnpd (runs as root). The lab:
//
//   lan ns: lan0 192.168.77.2/24 ── rtr ns: rtr-lan 192.168.77.1/24, rtr-wan 203.0.113.1/24 ── wan ns: wan0 203.0.113.2 + .3
//            (the phone: our clients in        (nftables masquerade + miniupnpd:                (coturn, which miniupnpd's STUN
//             a child process, and upnpc)       UPnP IGD on HTTP, NAT-PMP/PCP on 5351)           check needs; a WAN peer)
//
// Nothing leaves the three namespaces; all of them, and every process, go in after(), failed or not.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { CLI, REPO_ROOT } from '../helpers/paths.js';
import { startMiniupnpd, startStunForMiniupnpd, upnpcList, type Miniupnpd, type UpnpcEntry } from './lib/miniupnpd.js';
import { NamespaceGroup, createVeth, ipIn, nsExec, nsSysctl } from './lib/netns.js';
import { isAlive } from './lib/process.js';

const HELPER = join(REPO_ROOT, 'dist', 'test', 'lab', 'fixtures', 'upnp-pcp-client.js');
const PHONE = '192.168.77.2';
const NEIGHBOUR = '192.168.77.3';
const ROUTER_LAN = '192.168.77.1';
const ROUTER_WAN = '203.0.113.1';
const UPNP_LEASE_S = 10;
const PCP_LIFETIME_S = 6;

type Json = Record<string, unknown>;

/** The helper in the LAN namespace: JSON commands in, answers and events out. */
class LanClient {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly events: Json[] = [];
  private readonly eventWaiters = new Set<() => void>();
  private stderr = '';

  constructor(readonly child: ChildProcess) {
    child.stderr?.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-5000)));
    createInterface({ input: child.stdout ?? process.stdin }).on('line', (line) => {
      const msg = JSON.parse(line) as Json;
      if (typeof msg.event === 'string') {
        this.events.push(msg);
        for (const w of [...this.eventWaiters]) w();
        return;
      }
      const w = this.waiting.get(msg.id as number);
      this.waiting.delete(msg.id as number);
      if (msg.error) w?.reject(Object.assign(new Error(JSON.stringify(msg.error)), { detail: msg.error }));
      else w?.resolve(msg.result);
    });
    child.stdin?.on('error', () => {}); // a dead helper: call() reports it
    child.on('exit', () => {
      for (const w of this.waiting.values()) w.reject(new Error(`helper exited: ${this.stderr}`));
    });
  }

  call<T = Json>(op: string, args: Json = {}, timeoutMs = 10_000): Promise<T> {
    const id = this.nextId++;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.reject(new Error(`${op}: the helper has exited; stderr: ${this.stderr}`));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${op}: no answer from the helper in ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.child.stdin?.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  /** Waits for an event matching `pred` (also one that came already), failing clearly after the timeout. */
  waitEvent(what: string, pred: (e: Json) => boolean, timeoutMs: number): Promise<Json> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const e = this.events.find(pred);
        if (!e) return;
        this.eventWaiters.delete(check);
        clearTimeout(timer);
        resolve(e);
      };
      const timer = setTimeout(() => {
        this.eventWaiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; events: ${JSON.stringify(this.events)}`));
      }, timeoutMs);
      this.eventWaiters.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null || !isAlive(pid)) return;
    this.child.kill('SIGTERM');
    const exited = new Promise((r) => this.child.once('exit', r));
    if (!(await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 2000))]))) this.child.kill('SIGKILL');
  }
}

const group = new NamespaceGroup();
let lan = '';
let rtr = '';
let wan = '';
let stun: { stop(): Promise<void> } | undefined;
let miniupnpd: Miniupnpd | undefined;
let client: LanClient | undefined;
let descriptionUrl = '';

const phone = (): LanClient => {
  assert.ok(client, 'the helper is running');
  return client;
};
const listed = async (): Promise<UpnpcEntry[]> => upnpcList(lan, descriptionUrl);

before(async () => {
  lan = await group.create('dpa-upnp-lan');
  rtr = await group.create('dpa-upnp-rtr');
  wan = await group.create('dpa-upnp-wan');
  await createVeth({ ns: lan, name: 'lan0', addresses: [`${PHONE}/24`] }, { ns: rtr, name: 'rtr-lan', addresses: [`${ROUTER_LAN}/24`] });
  await createVeth({ ns: rtr, name: 'rtr-wan', addresses: [`${ROUTER_WAN}/24`] }, { ns: wan, name: 'wan0', addresses: ['203.0.113.2/24', '203.0.113.3/24'] });
  await ipIn(lan, ['route', 'add', 'default', 'via', ROUTER_LAN]);
  await nsSysctl(rtr, 'net.ipv4.ip_forward', 1);
  stun = await startStunForMiniupnpd(wan, ['203.0.113.2', '203.0.113.3']);
  miniupnpd = await startMiniupnpd({
    netns: rtr, wanIfname: 'rtr-wan', lanIfname: 'rtr-lan', lanCidr: '192.168.77.0/24', stun: { address: '203.0.113.2', port: 3478 },
  });
  descriptionUrl = `http://${ROUTER_LAN}:${miniupnpd.httpPort}/rootDesc.xml`;
  client = new LanClient(spawn('ip', ['netns', 'exec', lan, process.execPath, HELPER, 'serve'], { stdio: ['pipe', 'pipe', 'pipe'] }));
});

after(async () => {
  await client?.stop();
  await miniupnpd?.stop();
  await stun?.stop();
  await group.cleanup();
});

test('SSDP discovery from the LAN finds miniupnpd and its WANIPConnection:2 control URL', async () => {
  const r = await phone().call<{ service: Json; internalClient: string }>('discover', { timeoutMs: 3000, leaseS: UPNP_LEASE_S });
  assert.equal(r.service.location, descriptionUrl);
  assert.equal(r.service.serviceType, 'urn:schemas-upnp-org:service:WANIPConnection:2');
  assert.equal(r.service.controlUrl, `http://${ROUTER_LAN}:${miniupnpd?.httpPort}/ctl/IPConn`);
  assert.equal(r.internalClient, PHONE);
});

test("GetExternalIPAddress is the router's WAN address, reported although it is a TEST-NET one", async () => {
  assert.equal(await phone().call<string>('upnp-external-ip'), ROUTER_WAN);
});

test('AddPortMapping: upnpc lists the mapping, and a datagram from the WAN reaches the phone through it', async () => {
  const m = await phone().call('upnp-map', { internalPort: 5062, protocol: 'udp' });
  assert.deepEqual(m, { protocol: 'udp', internalPort: 5062, externalPort: 5062, externalAddress: ROUTER_WAN, leaseS: UPNP_LEASE_S });
  const entry = (await listed()).find((e) => e.externalPort === 5062);
  assert.ok(entry, 'upnpc -l lists the mapping');
  assert.deepEqual({ ...entry, leaseS: 0 }, { protocol: 'UDP', externalPort: 5062, internalClient: PHONE, internalPort: 5062, description: 'deskphone-agent udp/5062', leaseS: 0 });
  assert.ok(entry.leaseS > 0 && entry.leaseS <= UPNP_LEASE_S);
  await phone().call('udp-listen', { port: 5062 });
  await nsExec(wan, process.execPath, [HELPER, 'send', ROUTER_WAN, '5062', 'hello through the IGD']);
  const got = await phone().waitEvent('the datagram at the phone', (e) => e.event === 'udp-received' && e.port === 5062, 3000);
  assert.equal(got.text, 'hello through the IGD');
  assert.equal(got.from, '203.0.113.2');
});

test(`the mapping is renewed at half its ${UPNP_LEASE_S} s lease, and miniupnpd's lease starts over`, { timeout: 12_000 }, async () => {
  const renewed = await phone().waitEvent('a UPnP renewal', (e) => e.event === 'upnp-renewed', (UPNP_LEASE_S / 2 + 3) * 1000);
  assert.equal((renewed.mapping as Json).externalPort, 5062);
  const entry = await phone().call<Json>('upnp-entry', { externalPort: 5062, protocol: 'udp' });
  assert.ok((entry.leaseDurationS as number) > UPNP_LEASE_S / 2, `lease left after renewal: ${String(entry.leaseDurationS)}`);
});

test('a port another LAN host holds (718 ConflictInMappingEntry) makes the mapper take the next one', async () => {
  // The neighbour maps 5070 from its own address (secure_mode: only for itself) with upnpc.
  await ipIn(lan, ['addr', 'add', `${NEIGHBOUR}/24`, 'dev', 'lan0']);
  await ipIn(lan, ['route', 'add', `${ROUTER_LAN}/32`, 'dev', 'lan0', 'src', NEIGHBOUR]);
  try {
    await nsExec(lan, 'upnpc', ['-i', '-u', descriptionUrl, '-e', 'neighbour', '-a', NEIGHBOUR, '5070', '5070', 'UDP', '60']);
  } finally {
    await ipIn(lan, ['route', 'del', `${ROUTER_LAN}/32`]);
  }
  const m = await phone().call<Json>('upnp-map', { internalPort: 5070, protocol: 'udp' });
  assert.equal(m.externalPort, 5071);
  const entries = await listed();
  assert.ok(entries.some((e) => e.externalPort === 5070 && e.internalClient === NEIGHBOUR));
  assert.ok(entries.some((e) => e.externalPort === 5071 && e.internalClient === PHONE && e.internalPort === 5070));
});

test('DeletePortMapping removes the mapping: upnpc no longer lists it, the IGD answers 714', async () => {
  await phone().call('upnp-unmap', { externalPort: 5062, protocol: 'udp' });
  assert.equal((await listed()).some((e) => e.externalPort === 5062), false);
  await assert.rejects(phone().call('upnp-entry', { externalPort: 5062, protocol: 'udp' }), (err: Error & { detail?: Json }) => err.detail?.code === 714);
});

test('PCP MAP returns the WAN address; miniupnpd lists the mapping; it is renewed; lifetime 0 deletes it', { timeout: 12_000 }, async () => {
  await phone().call('pcp-open', { lifetimeS: PCP_LIFETIME_S });
  const m = await phone().call<Json>('pcp-map', { internalPort: 5080, protocol: 'udp' });
  assert.deepEqual(m, { via: 'pcp', protocol: 'udp', internalPort: 5080, externalPort: 5080, externalAddress: ROUTER_WAN, lifetimeS: PCP_LIFETIME_S, serverProtocol: 'pcp' });
  const entry = (await listed()).find((e) => e.externalPort === 5080);
  assert.ok(entry, 'upnpc -l lists the PCP mapping');
  assert.equal(entry.internalClient, PHONE);
  assert.match(entry.description, /^PCP MAP [0-9a-f]{24}$/, 'miniupnpd names it by the nonce');
  const renewed = await phone().waitEvent('a PCP renewal', (e) => e.event === 'pcp-renewed', (PCP_LIFETIME_S / 2 + 3) * 1000);
  assert.equal((renewed.mapping as Json).externalPort, 5080);
  assert.equal((await listed()).filter((e) => e.externalPort === 5080).length, 1, 'the renewal (same nonce) kept one mapping');
  await phone().call('pcp-unmap', { internalPort: 5080, protocol: 'udp' });
  assert.equal((await listed()).some((e) => e.externalPort === 5080), false);
});

test('NAT-PMP (RFC 6886) maps TCP with the WAN address from the external address request, and deletes', async () => {
  await phone().call('pcp-open', { lifetimeS: 60, protocol: 'natpmp' });
  const m = await phone().call<Json>('pcp-map', { internalPort: 5090, protocol: 'tcp' });
  assert.deepEqual(m, { via: 'natpmp', protocol: 'tcp', internalPort: 5090, externalPort: 5090, externalAddress: ROUTER_WAN, lifetimeS: 60, serverProtocol: 'natpmp' });
  assert.ok((await listed()).some((e) => e.protocol === 'TCP' && e.externalPort === 5090 && e.description === 'NAT-PMP 5090 tcp'));
  await phone().call('pcp-unmap', { internalPort: 5090, protocol: 'tcp' });
  assert.equal((await listed()).some((e) => e.externalPort === 5090), false);
});

test("at boot, reclaimStale deletes an earlier run's mapping (our description prefix) and nobody else's", async () => {
  await nsExec(lan, 'upnpc', ['-i', '-u', descriptionUrl, '-e', 'deskphone-agent udp/5099', '-a', PHONE, '5099', '5099', 'UDP', '60']);
  const deleted = await phone().call<Json[]>('upnp-reclaim');
  assert.deepEqual(deleted.map((e) => e.externalPort), [5099]);
  const ports = (await listed()).map((e) => e.externalPort);
  assert.equal(ports.includes(5099), false);
  assert.ok(ports.includes(5070) && ports.includes(5071), "the neighbour's mapping and our live one stay");
});

test('close() deletes every mapping the clients made', async () => {
  await phone().call('pcp-open', { lifetimeS: 60 });
  await phone().call('pcp-map', { internalPort: 5101, protocol: 'udp' });
  await phone().call('upnp-map', { internalPort: 5100, protocol: 'tcp' });
  const before = (await listed()).map((e) => e.externalPort);
  assert.ok(before.includes(5100) && before.includes(5101) && before.includes(5071));
  await phone().call('close');
  const left = await listed();
  assert.deepEqual(left.map((e) => `${e.internalClient}:${e.externalPort}`), [`${NEIGHBOUR}:5070`]);
});

/** The daemon in the LAN namespace with these settings, bound to the phone's address on `sipPort`. */
async function withDaemon(settings: ReadonlyArray<readonly [string, string]>, sipPort: number, body: (lines: readonly Json[]) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dpa-upnp-daemon-'));
  try {
    for (const [k, v] of settings) {
      const r = spawnSync(process.execPath, [CLI, 'registry', 'set', k, v, '--data-dir', dir], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    const daemon = spawn('ip', ['netns', 'exec', lan, process.execPath, CLI, 'run', '--board', 'sim', '--data-dir', dir, '--http', '127.0.0.1:0', '--sip-port', String(sipPort), '--sip-address', PHONE], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Json[] = [];
    createInterface({ input: daemon.stdout }).on('line', (l) => {
      try {
        lines.push(JSON.parse(l) as Json);
      } catch {
        // the daemon logs JSON only; anything else is ignored here
      }
    });
    const exited = new Promise<number | null>((r) => daemon.on('exit', (code) => r(code)));
    try {
      await waitForValue('the daemon ready', () => lines.some((l) => l.msg === 'deskphone-agent ready'), 15_000);
      await body(lines);
    } finally {
      daemon.kill('SIGTERM');
      assert.equal(await exited, 0, 'a clean stop');
    }
    assert.equal((await listed()).some((e) => e.externalPort === sipPort), false, 'the mapping is gone after the stop');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the daemon with nat.strategy upnp advertises the mapping miniupnpd made for its SIP port; a clean stop deletes it', async () => {
  await withDaemon([['nat.strategy', 'upnp'], ['nat.upnpLeaseS', '60']], 5064, async () => {
    const mine = (await listed()).find((e) => e.externalPort === 5064 && e.protocol === 'UDP');
    assert.ok(mine, 'miniupnpd lists the SIP port mapping');
    assert.equal(mine.internalClient, PHONE);
    assert.match(mine.description, /^deskphone-agent/);
  });
});

test(`the daemon over PCP alone (UPnP off): miniupnpd lists its SIP port mapping, renewed within the ${PCP_LIFETIME_S} s lifetime, gone after a clean stop`, { timeout: 30_000 }, async () => {
  const settings = [['nat.strategy', 'upnp'], ['nat.upnpEnabled', 'false'], ['nat.pcpEnabled', 'true'], ['nat.upnpLeaseS', String(PCP_LIFETIME_S)]] as const;
  await withDaemon(settings, 5066, async (lines) => {
    const decision = lines.find((l) => l.msg === 'nat decision' && l.advertised !== undefined);
    assert.equal(decision?.via, 'pcp', `the port manager's answer came over PCP: ${JSON.stringify(decision)}`);
    assert.deepEqual(decision?.advertised, { host: ROUTER_WAN, port: 5066 }, 'SIP advertises the PCP mapping');
    // Lease left as miniupnpd counts it down, sampled across two lifetimes: it must go back up
    // (a renewal, RFC 6887 §11.2.1, at half the lifetime) and never run out.
    const samples: number[] = [];
    const until = Date.now() + 2 * PCP_LIFETIME_S * 1000;
    while (Date.now() < until) {
      const mine = (await listed()).find((e) => e.externalPort === 5066 && e.protocol === 'UDP');
      assert.ok(mine, `miniupnpd lists the SIP port mapping (samples so far: ${samples.join(', ')})`);
      assert.equal(mine.internalClient, PHONE);
      assert.match(mine.description, /^PCP MAP [0-9a-f]{24}$/, 'a PCP mapping, named by its nonce');
      samples.push(mine.leaseS);
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(samples.some((v, i) => i > 0 && v > (samples[i - 1] ?? Infinity)), `the lease went back up (renewed): ${samples.join(', ')}`);
    assert.ok(samples.every((v) => v > 0 && v <= PCP_LIFETIME_S), `leases within the lifetime asked for: ${samples.join(', ')}`);
  });
});

test('the daemon with nat.strategy auto on a router that speaks UPnP and PCP holds one mapping of its SIP port (UPnP), none after a clean stop', { timeout: 30_000 }, async () => {
  await withDaemon([['nat.strategy', 'auto'], ['nat.upnpLeaseS', '60']], 5068, async (lines) => {
    const decision = lines.find((l) => l.msg === 'nat decision' && l.advertised !== undefined);
    assert.equal(decision?.via, 'upnp', `auto took the router's mapping: ${JSON.stringify(decision)}`);
    assert.match(String(decision?.reason), /the router maps ports on request \(UPnP IGD\)/);
    assert.deepEqual(decision?.advertised, { host: ROUTER_WAN, port: 5068 });
    // Longer than the router budget: nothing asked later (PCP) may have added a second mapping.
    await new Promise((r) => setTimeout(r, 3000));
    const mine = (await listed()).filter((e) => e.externalPort === 5068 || e.internalPort === 5068);
    assert.deepEqual(mine.map((e) => [e.protocol, e.internalClient, e.internalPort, e.description.replace(/\/.*$/, '')]), [['UDP', PHONE, 5068, 'deskphone-agent udp']]);
  });
});

async function waitForValue(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

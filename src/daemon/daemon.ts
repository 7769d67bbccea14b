// Start-up and shutdown order. Services start in the order listed and stop in reverse;
// later issues insert SIP (un-REGISTER on stop) and NAT (UPnP mapping removal) here.
import { randomUUID } from 'node:crypto';
import type { Logger, LevelWithSilent } from 'pino';
import type { FastifyInstance } from 'fastify';
import { autoBoardName, loadBoard, openHardware, type BoardDefinition, type Hardware } from '../hal/index.js';
import { PhoneController } from '../phone/index.js';
import { LocalPortManager, NatPortManager, PcpProvider, StaticProvider, StunProvider, UpnpProvider, type NatStrategy } from '../nat/index.js';
import { lookup } from 'node:dns/promises';
import { ALG_ADVICE, RtcClient, type ProfileConfig, type SipAlgAvoidanceMode } from '../rtc/index.js';
import { localAddress } from './local-address.js';
import { Registry } from '../registry/index.js';
import { SystemClock } from '../util/clock.js';
import { AdminCredentials, buildServer, callsStatus, isLoopback, type StatusSource } from '../web/index.js';
import { createLogger } from './logger.js';
import { DaemonNatDiscovery } from './nat-discovery.js';
import { sdNotify } from './sd-notify.js';

export interface DaemonOptions {
  readonly dataDir: string;
  readonly boardsDir: string;
  readonly version: string;
  /** Board name; default is the registry's board.name ("auto"). */
  readonly board?: string;
  /** Overrides web.bindAddress / web.port. */
  readonly http?: { host: string; port: number };
  /** Overrides sip.localPort. */
  readonly sipPort?: number;
  /** Binds SIP and RTP to this address and advertises it (default: all addresses, the first interface's advertised). */
  readonly sipAddress?: string;
}

interface Service {
  readonly name: string;
  stop(): Promise<void> | void;
}

export const SHUTDOWN_BUDGET_MS = 5000;

/** A board or registry audio device as a device spec: a bare ALSA name gets `alsa:` in front. */
export function audioSpec(name: string): string {
  return name === 'null' || /^(alsa|file|tone):/.test(name) ? name : `alsa:${name}`;
}

export class Daemon {
  readonly clock = new SystemClock();
  readonly startedAtMs = this.clock.now();
  private readonly services: Service[] = [];
  private stopping: Promise<void> | undefined;
  log: Logger;
  registry!: Registry;
  board!: BoardDefinition;
  hardware!: Hardware;
  phone!: PhoneController;
  rtc!: RtcClient;
  ports!: NatPortManager;
  natDiscovery!: DaemonNatDiscovery;
  web!: FastifyInstance;
  url = '';

  constructor(private readonly options: DaemonOptions) {
    this.log = createLogger('info');
  }

  async start(): Promise<void> {
    // 1. Settings. A broken file never stops us: bad keys fall back to defaults and are reported.
    this.registry = Registry.open(this.options.dataDir, {
      onListenerError: (err) => this.log.error({ err: (err as Error).message }, 'settings listener failed'),
    });
    this.log.level = this.registry.getString('log.level') as LevelWithSilent;
    for (const p of this.registry.problems) this.log.warn({ key: p.key }, `settings: ${p.message}`);
    this.registry.watchFile();
    this.registry.subscribe(['log.level'], () => {
      this.log.level = this.registry.getString('log.level') as LevelWithSilent;
      this.log.info({ level: this.log.level }, 'log level changed');
    });
    this.registry.subscribe(['*'], (changes) => {
      for (const c of changes) {
        const secret = this.registry.spec(c.key).secret === true;
        this.log.info({ key: c.key, value: secret ? '[secret]' : c.value, restartRequired: c.restartRequired }, c.restartRequired ? 'setting changed; takes effect after a restart' : 'setting changed');
      }
    });
    this.services.push({ name: 'registry', stop: () => this.registry.close() });

    // 2. Hardware.
    const requested = this.options.board ?? this.registry.getString('board.name');
    const boardName = requested === 'auto' ? autoBoardName() : requested;
    this.board = loadBoard(this.options.boardsDir, boardName);
    this.hardware = openHardware(this.board, (err, event) => this.log.error({ err: (err as Error).message, event }, 'hardware listener failed'));
    this.hardware.events.on('fault', (f) => this.log.error(f, 'hardware fault'));
    this.services.push({ name: 'hardware', stop: () => this.hardware.close() });

    // 3. SIP and calls: the RTC client (UA, profiles from accounts.*, sessions). Every advertised
    // address comes from the port manager; with no NAT provider yet it answers the local address.
    let sipHost = this.options.sipAddress ?? localAddress();
    const reg = this.registry;
    if (!reg.getString('sip.instanceId')) reg.set('sip.instanceId', randomUUID());
    // The port manager: the one place advertised addresses come from (DESIGN.md).
    const natError = (err: unknown, context: string): void => this.log.info({ err: err instanceof Error ? err.message : String(err), context }, 'nat');
    this.ports = new NatPortManager(
      () => reg.getString('nat.strategy') as NatStrategy,
      {
        static: new StaticProvider(() => ({
          publicAddress: reg.getString('nat.staticPublicAddress'), sipPort: reg.getNumber('nat.staticSipPort'),
          rtpPortMin: reg.getNumber('nat.staticRtpPortMin'), localRtpPortMin: reg.getNumber('rtp.portMin'),
        })),
        upnp: new UpnpProvider(() => ({ enabled: reg.getBoolean('nat.upnpEnabled'), leaseS: reg.getNumber('nat.upnpLeaseS') }), this.clock, natError),
        pcp: new PcpProvider(() => ({ enabled: reg.getBoolean('nat.pcpEnabled'), leaseS: reg.getNumber('nat.upnpLeaseS') || 7200 }), this.clock, natError),
        stun: new StunProvider(async () => {
          const server = reg.getString('nat.stunServer');
          const m = /^(.*):(\d{1,5})$/.exec(server);
          if (!m) return undefined;
          const host = (m[1] ?? '').replace(/^\[|\]$/g, '');
          const address = await lookup(host).then((r) => r.address, () => undefined);
          return address ? { address, port: Number(m[2]) } : undefined;
        }, this.clock),
      },
      new LocalPortManager(() => sipHost),
      () => this.natDiscovery.monitor.status.natType ?? undefined,
      this.clock,
    );
    // NAT behaviour discovery starts now, beside the first mapping, and never holds up readiness.
    let rtcStarted = false;
    this.natDiscovery = new DaemonNatDiscovery({
      registry: reg, clock: this.clock, log: this.log, ports: this.ports, rtc: () => (rtcStarted ? this.rtc : undefined),
      bindAddress: () => this.options.sipAddress ?? sipHost, software: `deskphone-agent/${this.options.version}`,
    });
    this.natDiscovery.run('start');
    this.rtc = await RtcClient.start({
      clock: this.clock,
      addresses: [this.options.sipAddress ?? '0.0.0.0'],
      sipPort: this.options.sipPort ?? reg.getNumber('sip.localPort'),
      transports: ['UDP', 'TCP', 'TLS'],
      timers: () => ({ t1Ms: reg.getNumber('sip.timerT1Ms'), t2Ms: reg.getNumber('sip.timerT2Ms'), t4Ms: reg.getNumber('sip.timerT4Ms') }),
      userAgent: `${reg.getString('sip.userAgent')}/${this.options.version}`,
      portManager: this.ports,
      localAddress: sipHost,
      instanceId: reg.getString('sip.instanceId'),
      rport: () => reg.getBoolean('sip.rport'),
      rateLimit: { ratePerS: reg.getNumber('sip.rateLimitPerS'), burst: reg.getNumber('sip.rateLimitBurst') },
      maxServerTransactions: reg.getNumber('sip.maxServerTransactions'),
      maxStreamMessageBytes: reg.getNumber('sip.maxStreamMessageBytes'),
      media: () => ({
        localAddress: sipHost, portMin: reg.getNumber('rtp.portMin'), portMax: reg.getNumber('rtp.portMax'),
        codecs: reg.getList('media.codecs'), ptimeMs: reg.getNumber('media.ptimeMs'), source: { kind: 'silence' },
        capture: audioSpec(reg.getString('audio.captureDevice') || this.board.audio.capture),
        playback: audioSpec(reg.getString('audio.playbackDevice') || this.board.audio.playback),
      }),
      calls: () => ({
        acceptOnlyFromProxy: reg.getBoolean('sip.acceptOnlyFromProxy'), allowDirectIpCalls: reg.getBoolean('sip.allowDirectIpCalls'),
        callWaiting: reg.getBoolean('phone.callWaiting'), doNotDisturb: reg.getBoolean('phone.doNotDisturb'), sessionExpiresS: 1800,
        earlyUdp: reg.getBoolean('rtc.enableEarlyUdpPackets'),
      }),
      // nat.keepaliveIntervalS, or (0) a fraction of the measured binding lifetime, 25 s until measured.
      keepaliveIntervalS: () => this.natDiscovery.keepalive().intervalS,
      sipAlgAvoidance: () => reg.getString('nat.sipAlgAvoidance') as SipAlgAvoidanceMode,
      onLog: (err, context) => this.log.debug({ err: err instanceof Error ? err.message : String(err), context }, 'sip'),
    });
    rtcStarted = true;
    this.log.info({ ...this.ports.lastDecision, advertised: this.rtc.advertised() }, 'nat decision');
    this.natDiscovery.recheckMapping();
    reg.subscribe(['sip.rateLimitPerS', 'sip.rateLimitBurst', 'sip.maxServerTransactions'], () => {
      this.rtc.ua.configureProtection(reg.getNumber('sip.rateLimitPerS'), reg.getNumber('sip.rateLimitBurst'), reg.getNumber('sip.maxServerTransactions'));
    });
    this.rtc.events.on('registrationStateChanged', (e) => this.log.info({ account: e.profile, state: e.state, reason: e.reason, expiresS: e.expiresS, contact: e.contact }, 'registration'));
    this.rtc.events.on('sessionStateChanged', (e) => this.log.info({ call: e.session, state: e.state, direction: e.direction, peer: e.peer, endReason: e.endReason, status: e.status }, 'call'));
    this.rtc.events.on('error', (e) => this.log.warn(e, 'rtc'));
    // A SIP ALG is reported (log, /api/status nat.alg) and, as nat.sipAlgAvoidance says, each
    // account moves its registration to TCP/TLS out of its reach (nat.algAvoidance).
    this.rtc.events.on('sipAlgDetected', (e) => this.log.warn({ evidence: e, advice: ALG_ADVICE }, 'SIP ALG detected'));
    this.rtc.events.on('sipAlgAvoidance', (e) => this.log.warn({ account: e.profile, state: e.state, transport: e.transport, reason: e.reason }, 'SIP ALG avoidance'));
    this.syncAccounts();
    reg.subscribe(['accounts.'], () => this.syncAccounts());
    // A new local address (DHCP, a cable moved to another network): ask the port manager again,
    // which re-registers every profile with the new Contact.
    const addressWatch = this.options.sipAddress
      ? undefined
      : setInterval(() => {
          const now = localAddress();
          if (now === sipHost) return;
          this.log.info({ from: sipHost, to: now }, 'local address changed');
          sipHost = now;
          // The cached mappings name the old address; discovery measures the new network.
          this.ports.reevaluate().then(() => this.rtc.refreshMapping()).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'new address not applied'));
          this.natDiscovery.run('address-change');
        }, 10_000).unref();
    // A new NAT strategy or server: forget the mappings and ask again (profiles re-register), and
    // measure again; a new keep-alive interval alone needs neither.
    reg.subscribe(['nat.'], (changes) => {
      if (changes.every((c) => c.key === 'nat.keepaliveIntervalS')) return this.natDiscovery.keepaliveSettingChanged();
      void this.ports.reevaluate().then(() => this.rtc.refreshMapping()).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'NAT settings not applied'));
      if (changes.some((c) => c.key === 'nat.strategy' || c.key === 'nat.stunServer')) this.natDiscovery.run('settings');
      this.natDiscovery.keepaliveSettingChanged();
    });
    this.services.push({ name: 'rtc', stop: () => {
      if (addressWatch) clearInterval(addressWatch);
      return this.rtc.close().then(() => this.ports.close());
    } });
    // Stopped before the RTC client: a verdict that comes during shutdown re-maps nothing.
    this.services.push({ name: 'nat discovery', stop: () => this.natDiscovery.close() });

    // 4. The phone (calls are placed through the RTC client once it exists).
    this.phone = new PhoneController(this.hardware, this.registry, this.clock, this.log.child({ component: 'phone' }), this.rtc);
    this.services.push({ name: 'phone', stop: () => this.phone.close() });

    // 5. HTTP API.
    const credentials = new AdminCredentials(this.options.dataDir);
    const status: StatusSource = {
      registrations: () => this.rtc.profiles.map((p) => ({ account: p.id, state: p.state, contact: p.contact ?? null, expiresS: p.expiresS })),
      nat: () => {
        const sip = this.rtc.advertised();
        return {
          strategy: this.registry.getString('nat.strategy'), natType: this.natDiscovery.monitor.status.natType, decision: this.ports.lastDecision,
          discovery: this.natDiscovery.monitor.status, keepalive: { ...this.natDiscovery.keepalive(), running: this.rtc.profiles.map((p) => ({ account: p.id, intervalS: p.keepaliveIntervalMs === undefined ? null : p.keepaliveIntervalMs / 1000 })) },
          alg: this.rtc.sipAlg !== undefined, algEvidence: this.rtc.sipAlg ?? null, algAvoidance: this.rtc.sipAlgAvoidance,
          publicAddress: this.ports.lastDecision.via && this.ports.lastDecision.via !== 'local' ? sip.host : null,
          mappings: this.ports.mappings.map((m) => ({ kind: m.kind, local: `${m.local.address}:${m.local.port}`, public: `${m.mapping.address}:${m.mapping.port}`, via: m.mapping.via })),
        };
      },
      calls: () => callsStatus(this.rtc.sessions),
      phoneState: () => this.phone.state,
      problems: () => this.registry.problems.map((p) => p.message),
    };
    this.web = buildServer({
      registry: this.registry, credentials, hardware: this.hardware, status, clock: this.clock,
      version: this.options.version, board: this.board.name, startedAtMs: this.startedAtMs, logger: this.log, calls: this.rtc,
    });
    let host = this.options.http?.host ?? this.registry.getString('web.bindAddress');
    const port = this.options.http?.port ?? this.registry.getNumber('web.port');
    if (!credentials.hasPassword() && !isLoopback(host)) {
      this.log.warn({ requested: host }, 'no admin password yet: serving 127.0.0.1 only (set one with: deskphone-agent admin set-password)');
      host = '127.0.0.1';
    }
    await this.web.listen({ host, port });
    const addr = this.web.server.address();
    const boundPort = typeof addr === 'object' && addr ? addr.port : port;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}/`;
    this.services.push({ name: 'web', stop: () => this.web.close() });

    this.log.info({ url: this.url, sipPort: this.rtc.sipPort, board: this.board.name, dataDir: this.options.dataDir, version: this.options.version, startupMs: Math.round(this.clock.now() - this.startedAtMs) }, 'deskphone-agent ready');
    sdNotify('READY=1');
  }

  /** Profiles follow the registry's accounts: added, changed (re-registered) and removed live. */
  private syncAccounts(): void {
    const reg = this.registry;
    const wanted = new Map<string, ProfileConfig>();
    for (const id of reg.accounts()) {
      const k = (f: string) => `accounts.${id}.${f}`;
      if (!reg.getBoolean(k('enabled')) || !reg.getString(k('registrar')) || !reg.getString(k('user'))) continue;
      const proxy = reg.getString(k('proxy'));
      const display = reg.getString(k('displayName'));
      const authUser = reg.getString(k('authUser'));
      wanted.set(id, {
        id, registrar: reg.getString(k('registrar')), user: reg.getString(k('user')), password: reg.getString(k('password')),
        transport: reg.getString(k('transport')) as 'udp' | 'tcp' | 'tls', expiresS: reg.getNumber(k('expiresS')),
        ...(proxy ? { proxy } : {}), ...(display ? { displayName: display } : {}), ...(authUser ? { authUser } : {}),
      });
    }
    void (async () => {
      for (const p of this.rtc.profiles) {
        const want = wanted.get(p.id);
        if (!want || JSON.stringify(want) !== JSON.stringify(p.config)) {
          this.log.info({ account: p.id, removed: !want }, want ? 'account changed: registering again' : 'account removed');
          await this.rtc.removeProfile(p.id);
        }
      }
      for (const [id, config] of wanted) {
        if (this.rtc.profile(id)) continue;
        try {
          this.rtc.addProfile(config);
        } catch (err) {
          this.log.warn({ account: id, err: (err as Error).message }, 'account not usable');
        }
      }
    })().catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'accounts not applied'));
  }

  /** Stops services in reverse start order; never takes longer than the shutdown budget. */
  stop(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      sdNotify('STOPPING=1');
      this.log.info({ reason }, 'stopping');
      const deadline = this.clock.now() + SHUTDOWN_BUDGET_MS - 500;
      for (const service of [...this.services].reverse()) {
        const left = deadline - this.clock.now();
        try {
          await Promise.race([
            Promise.resolve(service.stop()),
            new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), Math.max(0, left)).unref()),
          ]);
        } catch (err) {
          this.log.error({ service: service.name, err: (err as Error).message }, 'service did not stop cleanly');
        }
      }
      this.services.length = 0;
      this.log.info({}, 'stopped');
    })();
    return this.stopping;
  }
}

// Start-up and shutdown order. Services start in the order listed and stop in reverse;
// later issues insert SIP (un-REGISTER on stop) and NAT (UPnP mapping removal) here.
import type { Logger, LevelWithSilent } from 'pino';
import type { FastifyInstance } from 'fastify';
import { autoBoardName, loadBoard, openHardware, type BoardDefinition, type Hardware } from '../hal/index.js';
import { PhoneController } from '../phone/index.js';
import { UserAgent } from '../sip/ua/index.js';
import { localAddress } from './local-address.js';
import { Registry } from '../registry/index.js';
import { SystemClock } from '../util/clock.js';
import { AdminCredentials, buildServer, isLoopback, type StatusSource } from '../web/index.js';
import { createLogger } from './logger.js';
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
}

interface Service {
  readonly name: string;
  stop(): Promise<void> | void;
}

export const SHUTDOWN_BUDGET_MS = 5000;

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
  sip!: UserAgent;
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

    // 3. SIP: transports, transactions and the UA core on sip.localPort. The advertised address
    // is the local one until the port manager (NAT issue) answers for it.
    const sipHost = localAddress();
    const reg = this.registry;
    this.sip = new UserAgent({
      clock: this.clock,
      addresses: ['0.0.0.0'],
      port: this.options.sipPort ?? reg.getNumber('sip.localPort'),
      transports: ['UDP', 'TCP'],
      timers: () => ({ t1Ms: reg.getNumber('sip.timerT1Ms'), t2Ms: reg.getNumber('sip.timerT2Ms'), t4Ms: reg.getNumber('sip.timerT4Ms') }),
      userAgent: `${reg.getString('sip.userAgent')}/${this.options.version}`,
      advertised: () => ({ host: sipHost, port: this.sip.port }),
      rport: () => reg.getBoolean('sip.rport'),
      rateLimit: { ratePerS: reg.getNumber('sip.rateLimitPerS'), burst: reg.getNumber('sip.rateLimitBurst') },
      maxServerTransactions: reg.getNumber('sip.maxServerTransactions'),
      maxStreamMessageBytes: reg.getNumber('sip.maxStreamMessageBytes'),
      onError: (err, context) => this.log.debug({ err: (err as Error).message, context }, 'sip'),
    });
    reg.subscribe(['sip.rateLimitPerS', 'sip.rateLimitBurst', 'sip.maxServerTransactions'], () => {
      this.sip.configureProtection(reg.getNumber('sip.rateLimitPerS'), reg.getNumber('sip.rateLimitBurst'), reg.getNumber('sip.maxServerTransactions'));
    });
    await this.sip.start();
    this.services.push({ name: 'sip', stop: () => this.sip.close() });

    // 4. The phone (calls are placed through the RTC client once it exists).
    this.phone = new PhoneController(this.hardware, this.registry, this.clock, this.log.child({ component: 'phone' }), undefined);
    this.services.push({ name: 'phone', stop: () => this.phone.close() });

    // 5. HTTP API.
    const credentials = new AdminCredentials(this.options.dataDir);
    const status: StatusSource = {
      registrations: () => [],
      nat: () => ({ strategy: this.registry.getString('nat.strategy'), natType: null, publicAddress: null, mappings: [] }),
      calls: () => [],
      phoneState: () => this.phone.state,
      problems: () => this.registry.problems.map((p) => p.message),
    };
    this.web = buildServer({
      registry: this.registry, credentials, hardware: this.hardware, status, clock: this.clock,
      version: this.options.version, board: this.board.name, startedAtMs: this.startedAtMs, logger: this.log,
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

    this.log.info({ url: this.url, sipPort: this.sip.port, board: this.board.name, dataDir: this.options.dataDir, version: this.options.version, startupMs: Math.round(this.clock.now() - this.startedAtMs) }, 'deskphone-agent ready');
    sdNotify('READY=1');
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

// NAT behaviour discovery in the daemon: when it runs (a STUN server is set and nat.strategy is
// auto or stun; at start, on a new local address, on new NAT settings), what its results change
// (auto's choice of provider, the keep-alive interval when nat.keepaliveIntervalS is 0) and what
// is logged. Discovery never holds up readiness and its failures are reported, not fatal.
import type { Logger } from 'pino';
import {
  BINDING_LIFETIME_PROBES_S, NatBehaviourMonitor, discoverNatBehaviour, keepaliveInterval, measureNatBindingLifetime, parseStunServer,
  type KeepaliveChoice, type NatBehaviourStatus, type NatPortManager,
} from '../nat/index.js';
import type { Registry } from '../registry/index.js';
import type { RtcClient } from '../rtc/index.js';
import type { Clock } from '../util/index.js';

export interface NatDiscoveryDeps {
  readonly registry: Registry;
  readonly clock: Clock;
  readonly log: Logger;
  readonly ports: NatPortManager;
  /** Undefined until the RTC client has started. */
  readonly rtc: () => RtcClient | undefined;
  /** The address discovery sends from: the one SIP is bound to or advertises. */
  readonly bindAddress: () => string;
  readonly software: string;
}

const STRATEGIES_THAT_USE_IT: ReadonlySet<string> = new Set(['auto', 'stun']);

export class DaemonNatDiscovery {
  readonly monitor: NatBehaviourMonitor;
  private lastKeepalive: KeepaliveChoice | undefined;
  private closed = false;

  constructor(private readonly deps: NatDiscoveryDeps) {
    this.monitor = new NatBehaviourMonitor({
      clock: deps.clock,
      discover: (server, bindAddress) => discoverNatBehaviour({
        server: parseStunServer(server), clock: deps.clock, software: deps.software, ...(bindAddress !== undefined ? { bindAddress } : {}),
      }),
      measureLifetime: (server, bindAddress) => measureNatBindingLifetime({
        server, clock: deps.clock, software: deps.software, idleTimesS: BINDING_LIFETIME_PROBES_S, ...(bindAddress !== undefined ? { bindAddress } : {}),
      }),
      onChange: (s) => this.changed(s),
      onListenerError: (err) => deps.log.error({ err: err instanceof Error ? err.message : String(err) }, 'nat discovery listener failed'),
    });
  }

  /** The keep-alive interval now: the setting, else from the measured binding lifetime, else the fallback. */
  keepalive(): KeepaliveChoice {
    const s = this.monitor.status;
    const measured = s.bindingLifetimeS !== null ? { bindingLifetimeS: s.bindingLifetimeS, ...(s.bindingExpiredS !== null ? { bindingExpiredS: s.bindingExpiredS } : {}) } : undefined;
    return keepaliveInterval(this.deps.registry.getNumber('nat.keepaliveIntervalS'), measured);
  }

  /** Runs discovery (again) if the settings call for it, else turns it off; never throws. */
  run(trigger: 'start' | 'address-change' | 'settings'): void {
    if (this.closed) return;
    const reg = this.deps.registry;
    const strategy = reg.getString('nat.strategy');
    if (!STRATEGIES_THAT_USE_IT.has(strategy)) {
      this.monitor.stop(`nat.strategy ${strategy} does not use it`);
      return;
    }
    this.monitor.start({ server: reg.getString('nat.stunServer'), bindAddress: this.deps.bindAddress(), trigger })
      .catch((err: unknown) => this.deps.log.error({ err: err instanceof Error ? err.message : String(err) }, 'nat discovery broke'));
  }

  /** At shutdown: a run still going is ignored when it ends, and nothing is re-mapped any more. */
  close(): void {
    this.closed = true;
    this.monitor.stop('the daemon is stopping');
  }

  /** The setting changed: running keep-alives take the new interval. */
  keepaliveSettingChanged(): void {
    this.applyKeepalive();
  }

  /** After the first mapping: a verdict that came while it was asked for may change auto's choice. */
  recheckMapping(): void {
    this.reconsider();
  }

  private changed(s: NatBehaviourStatus): void {
    if (this.closed) return;
    const log = this.deps.log;
    switch (s.state) {
      case 'discovering':
        log.info({ server: s.server, trigger: s.trigger, bindAddress: this.deps.bindAddress() }, 'nat discovery started');
        return;
      case 'off':
        log.info({ reason: s.reason }, 'nat discovery off');
        break;
      case 'failed':
        log.warn({ server: s.server, reason: s.reason, afterMs: s.verdictMs }, 'nat discovery failed');
        break;
      case 'measuring':
        log.info({ natType: s.natType, mapping: s.mapping, filtering: s.filtering, publicAddress: s.publicAddress, verdictMs: s.verdictMs }, 'nat behaviour');
        break;
      case 'done':
        if (s.bindingLifetimeMs === null) {
          log.info({ natType: s.natType, mapping: s.mapping, filtering: s.filtering, publicAddress: s.publicAddress, verdictMs: s.verdictMs }, 'nat behaviour');
        } else {
          log.info({ bindingLifetimeS: s.bindingLifetimeS, bindingExpiredS: s.bindingExpiredS, bindingLifetimeMs: s.bindingLifetimeMs, problem: s.reason }, 'nat binding lifetime');
        }
        break;
    }
    this.reconsider();
    this.applyKeepalive();
  }

  private reconsider(): void {
    const { ports, log } = this.deps;
    // Before the RTC client has started, its first mapping will read the verdict itself.
    if (!this.deps.rtc()) return;
    void ports.behaviourChanged().then(async (changed) => {
      const rtc = this.deps.rtc();
      if (changed && rtc) await rtc.refreshMapping();
      const d = ports.lastDecision;
      log.info({ strategy: d.strategy, via: d.via, reason: d.reason, remapped: changed, ...(rtc ? { advertised: rtc.advertised() } : {}) }, 'nat decision');
    }).catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'nat decision not applied'));
  }

  private applyKeepalive(): void {
    const k = this.keepalive();
    const last = this.lastKeepalive;
    this.lastKeepalive = k;
    if (last && last.intervalS === k.intervalS && last.source === k.source) return;
    this.deps.log.info({ intervalS: k.intervalS, source: k.source, reason: k.reason }, 'nat keep-alive interval');
    this.deps.rtc()?.keepaliveIntervalChanged();
  }
}

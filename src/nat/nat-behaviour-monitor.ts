// The daemon's NAT behaviour discovery (RFC 5780 §4.3/§4.4, then §4.6 binding lifetime): run at
// start and again when the local address or the NAT settings change, in the background, so
// readiness never waits for it. Two steps: the class first (about one STUN timeout), then the
// binding lifetime (about as long as the binding lives). A run that a newer one replaced is
// ignored when it ends. Failures (no server, timeouts, a server without RFC 5780) are a state
// with a reason, never an exception.
//
// States and transitions (one table, checked):
//   off ─start→ discovering ─verdict→ measuring ─lifetime→ done
//                     │                   └──────────── lifetime failed → done (no lifetime)
//                     ├─ verdict udp-blocked → done
//                     └─ error → failed
//   any ─start→ discovering (a newer run), any ─stop→ off
import type { Clock } from '../util/index.js';
import { CodedError } from '../util/index.js';
import type { FilteringBehaviour, MappingBehaviour, NatType, TransportAddress } from './nat-behaviour-decision.js';
import type { BindingLifetimeMeasurement, NatDiscoveryResult } from './nat-behaviour-discovery.js';

export type NatBehaviourState = 'off' | 'discovering' | 'measuring' | 'done' | 'failed';

export class NatBehaviourStateError extends CodedError<'illegal-transition'> {
  constructor(from: NatBehaviourState, to: NatBehaviourState) {
    super('illegal-transition', `NAT behaviour discovery: ${from} → ${to} is not a transition`);
  }
}

const LEGAL: Readonly<Record<NatBehaviourState, readonly NatBehaviourState[]>> = {
  off: ['discovering', 'off'],
  discovering: ['measuring', 'done', 'failed', 'discovering', 'off'],
  measuring: ['done', 'discovering', 'off'],
  done: ['discovering', 'off'],
  failed: ['discovering', 'off'],
};

/** What /api/status shows (nat.discovery) and the log says. */
export interface NatBehaviourStatus {
  readonly state: NatBehaviourState;
  /** Why discovery is off, or what made it fail. */
  readonly reason: string | null;
  /** The STUN server as configured (host:port). */
  readonly server: string | null;
  /** What started the run: 'start', 'address-change', 'settings'. */
  readonly trigger: string | null;
  readonly natType: NatType | null;
  readonly mapping: MappingBehaviour | null;
  readonly filtering: FilteringBehaviour | null;
  readonly publicAddress: string | null;
  readonly localAddress: string | null;
  /** RFC 5780 §4.6: the longest idle time a binding survived (while measuring again: the last run's). */
  readonly bindingLifetimeS: number | null;
  /** The shortest idle time after which it was gone (null: it outlived every probe, or not measured). */
  readonly bindingExpiredS: number | null;
  /** Wall-clock time (ISO 8601) the class was measured. */
  readonly measuredAt: string | null;
  /** Run start → class known (DNS included). */
  readonly verdictMs: number | null;
  /** How long the binding lifetime measurement took. */
  readonly bindingLifetimeMs: number | null;
}

export interface NatBehaviourRun {
  /** host:port text (nat.stunServer); empty: discovery is off. */
  readonly server: string;
  readonly bindAddress?: string;
  readonly trigger: string;
}

export interface NatBehaviourMonitorDeps {
  readonly clock: Clock;
  /** Wall-clock time for measuredAt. */
  readonly wallNow?: () => Date;
  discover(server: string, bindAddress: string | undefined): Promise<NatDiscoveryResult>;
  measureLifetime(server: TransportAddress, bindAddress: string | undefined): Promise<BindingLifetimeMeasurement | undefined>;
  /** Each change of state; `status` is the new one. */
  onChange(status: NatBehaviourStatus): void;
  /** A throwing onChange is reported here and does not stop the run. */
  onListenerError?(err: unknown): void;
}

const EMPTY: Omit<NatBehaviourStatus, 'state' | 'reason' | 'server' | 'trigger'> = {
  natType: null, mapping: null, filtering: null, publicAddress: null, localAddress: null,
  bindingLifetimeS: null, bindingExpiredS: null, measuredAt: null, verdictMs: null, bindingLifetimeMs: null,
};

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class NatBehaviourMonitor {
  private current: NatBehaviourStatus = { state: 'off', reason: 'not started', server: null, trigger: null, ...EMPTY };
  private generation = 0;

  constructor(private readonly deps: NatBehaviourMonitorDeps) {}

  get status(): NatBehaviourStatus {
    return this.current;
  }

  /** Starts a run (replacing any); resolves when it has settled or was replaced. */
  async start(run: NatBehaviourRun): Promise<void> {
    const gen = ++this.generation;
    const server = run.server.trim();
    if (!server) {
      this.move({ state: 'off', reason: 'no STUN server (nat.stunServer)', server: null, trigger: run.trigger, ...EMPTY });
      return;
    }
    // The last result stays visible while a new run measures again.
    this.move({ ...this.current, state: 'discovering', reason: null, server, trigger: run.trigger });
    const startedMs = this.deps.clock.now();
    let found: NatDiscoveryResult;
    try {
      found = await this.deps.discover(server, run.bindAddress);
    } catch (err) {
      if (gen === this.generation) this.move({ state: 'failed', reason: message(err), server, trigger: run.trigger, ...EMPTY, verdictMs: this.deps.clock.now() - startedMs });
      return;
    }
    if (gen !== this.generation) return;
    // The last binding lifetime stays until this run has measured its own: the keep-alive
    // interval derived from it is a better guess meanwhile than none.
    const previous = { bindingLifetimeS: this.current.bindingLifetimeS, bindingExpiredS: this.current.bindingExpiredS, bindingLifetimeMs: this.current.bindingLifetimeMs };
    const verdict: NatBehaviourStatus = {
      ...EMPTY, ...(found.natType === 'udp-blocked' ? {} : previous), state: found.natType === 'udp-blocked' ? 'done' : 'measuring', reason: null, server, trigger: run.trigger,
      natType: found.natType, mapping: found.mapping, filtering: found.filtering, publicAddress: found.publicAddress,
      localAddress: `${found.localAddress.address}:${found.localAddress.port}`,
      measuredAt: (this.deps.wallNow?.() ?? new Date()).toISOString(), verdictMs: Math.round(this.deps.clock.now() - startedMs),
    };
    this.move(verdict);
    if (verdict.state === 'done') return;
    const lifetimeStartedMs = this.deps.clock.now();
    let lifetime: BindingLifetimeMeasurement | undefined;
    let failure: string | null = null;
    try {
      lifetime = await this.deps.measureLifetime(found.server, run.bindAddress);
      if (!lifetime) failure = 'binding lifetime: no probe was answered';
    } catch (err) {
      failure = `binding lifetime: ${message(err)}`;
    }
    if (gen !== this.generation) return;
    this.move({
      ...verdict, state: 'done', reason: failure,
      bindingLifetimeS: lifetime?.bindingLifetimeS ?? null, bindingExpiredS: lifetime?.bindingExpiredS ?? null,
      bindingLifetimeMs: Math.round(this.deps.clock.now() - lifetimeStartedMs),
    });
  }

  /** Turns discovery off (a strategy that does not use it); a run still going is ignored when it ends. */
  stop(reason: string): void {
    this.generation++;
    this.move({ state: 'off', reason, server: null, trigger: null, ...EMPTY });
  }

  private move(next: NatBehaviourStatus): void {
    if (!LEGAL[this.current.state].includes(next.state)) throw new NatBehaviourStateError(this.current.state, next.state);
    this.current = next;
    try {
      this.deps.onChange(next);
    } catch (err) {
      this.deps.onListenerError?.(err);
    }
  }
}

// SIP ALG avoidance for one profile: what the phone does once a router's SIP ALG has been seen
// rewriting our SIP (alg-detector.ts). Such helpers (Linux's nf_nat_sip, most home routers' "SIP
// ALG") only inspect UDP to or from port 5060, so the way round them is a stream: the profile
// un-REGISTERs its UDP binding and registers over TCP (or TLS, then TCP) instead. A registrar that
// refuses the stream sends the profile back to UDP for good, where the ALG's rewriting is left
// alone: its rewritten addresses are never taken for a new mapping (profile.ts re-registers only
// on a new local address or a STUN answer on the flow, neither of which the ALG touches), so there
// is no loop of re-registrations either way.
//
// Pure machine: the client feeds it registration outcomes and the ALG finding, and carries out the
// actions ('move': un-register and register over another transport; 'report': event, log, status).
//
//   watching ──ALG on a UDP flow to 5060, mode tcp/tls──▶ moving ──registered over it──▶ moved
//      │                                                   │  ╰─failed: next candidate (TLS → TCP)
//      ╰──ALG, mode off──▶ stayed ◀──every candidate failed (back to UDP, for good)─╯
// The setting is read at each registration: turned on, a profile that stayed because it was off
// moves at its next refresh; turned off, a moved profile goes back to UDP at its next refresh.
import { CodedError } from '../util/index.js';

/** nat.sipAlgAvoidance. */
export type SipAlgAvoidanceMode = 'off' | 'tcp' | 'tls';

export type SipAlgAvoidanceState = 'watching' | 'moving' | 'moved' | 'stayed';

export type StreamTransport = 'TCP' | 'TLS';

/** What the phone did about the ALG for one profile: the client's event and the status page's entry. */
export interface SipAlgAvoidanceReport {
  readonly profile: string;
  readonly state: SipAlgAvoidanceState;
  /** The transport the profile registers over now (or is moving to). */
  readonly transport: 'UDP' | StreamTransport;
  readonly reason: string;
}

export type SipAlgAvoidanceAction =
  /** Un-REGISTER the current binding, then register over `to`. */
  | { kind: 'move'; to: 'UDP' | StreamTransport }
  | { kind: 'report'; report: SipAlgAvoidanceReport };

/** Where a registration went: the flow the ALG could see. */
export interface RegisteredFlow {
  readonly transport: string;
  readonly port: number;
}

/** The port SIP ALGs watch (RFC 3261 §19.1.2's default); other ports pass them untouched. */
export const ALG_PORT = 5060;

export class SipAlgAvoidanceError extends CodedError<'illegal-transition'> {}

const candidatesFor = (mode: SipAlgAvoidanceMode): StreamTransport[] => (mode === 'tls' ? ['TLS', 'TCP'] : mode === 'tcp' ? ['TCP'] : []);

export class SipAlgAvoidance {
  private stateNow: SipAlgAvoidanceState = 'watching';
  private candidates: StreamTransport[] = [];
  private last: SipAlgAvoidanceReport | undefined;
  /** 'stayed' because the setting was off (a later 'tcp'/'tls' still applies), not because every stream failed. */
  private offWhenStayed = false;

  constructor(private readonly profile: string) {}

  get state(): SipAlgAvoidanceState {
    return this.stateNow;
  }

  /** The last report, for /api/status (undefined while nothing was done). */
  get report(): SipAlgAvoidanceReport | undefined {
    return this.last;
  }

  /**
   * The profile is registered over `flow`, and an ALG has (or has not yet) been seen. Called on
   * every registration and again when the ALG is first found.
   */
  registered(flow: RegisteredFlow, algSeen: boolean, mode: SipAlgAvoidanceMode): SipAlgAvoidanceAction[] {
    const transport = flow.transport.toUpperCase();
    switch (this.stateNow) {
      case 'watching':
        if (!algSeen || transport !== 'UDP' || flow.port !== ALG_PORT) return [];
        return this.decide(mode);
      case 'stayed':
        // The setting turned on since we stayed because it was off: applies at this refresh.
        if (!this.offWhenStayed || mode === 'off' || transport !== 'UDP') return [];
        return this.decide(mode);
      case 'moving': {
        const target = this.last?.transport;
        if (transport !== target) return []; // the UDP binding's last word before it is removed
        return this.to('moved', target, `registered over ${target}, out of the SIP ALG's reach`);
      }
      case 'moved':
        if (mode !== 'off') return [];
        this.offWhenStayed = true;
        return [{ kind: 'move', to: 'UDP' }, ...this.to('stayed', 'UDP', 'nat.sipAlgAvoidance turned off: back on UDP through the SIP ALG')];
    }
  }

  private decide(mode: SipAlgAvoidanceMode): SipAlgAvoidanceAction[] {
    this.candidates = candidatesFor(mode);
    const next = this.candidates.shift();
    this.offWhenStayed = next === undefined;
    if (!next) return this.to('stayed', 'UDP', 'nat.sipAlgAvoidance is off: staying on UDP; the ALG rewrites our addresses and we leave them be');
    return [{ kind: 'move', to: next }, ...this.to('moving', next, `a SIP ALG rewrites UDP to port ${ALG_PORT}: registering over ${next} instead`)];
  }

  /** The registration failed (a refused or unreachable stream, a final error response). */
  failed(transport: string, reason: string): SipAlgAvoidanceAction[] {
    if (this.stateNow !== 'moving' || transport.toUpperCase() !== this.last?.transport) return [];
    const next = this.candidates.shift();
    if (next) return [{ kind: 'move', to: next }, ...this.to('moving', next, `${transport.toUpperCase()} failed (${reason}): registering over ${next} instead`)];
    return [{ kind: 'move', to: 'UDP' }, ...this.to('stayed', 'UDP', `${transport.toUpperCase()} failed (${reason}): back on UDP through the SIP ALG`)];
  }

  private to(state: SipAlgAvoidanceState, transport: SipAlgAvoidanceReport['transport'], reason: string): SipAlgAvoidanceAction[] {
    const legal: Record<SipAlgAvoidanceState, readonly SipAlgAvoidanceState[]> = {
      watching: ['moving', 'stayed'], moving: ['moving', 'moved', 'stayed'], moved: ['stayed'], stayed: ['moving'],
    };
    if (!legal[this.stateNow].includes(state)) throw new SipAlgAvoidanceError('illegal-transition', `SIP ALG avoidance: ${this.stateNow} → ${state} is not allowed`);
    this.stateNow = state;
    this.last = { profile: this.profile, state, transport, reason };
    return [{ kind: 'report', report: this.last }];
  }
}

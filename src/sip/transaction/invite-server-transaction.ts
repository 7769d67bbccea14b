// RFC 3261 §17.2.1 INVITE server transaction, with RFC 6026's Accepted state: after a 2xx the
// transaction absorbs INVITE retransmissions and hands ACKs to the TU until Timer L.
import { makeResponse, type SipRequest, type SipResponse } from '../message/index.js';
import { illegal, isProvisional, type TimerName, type TransactionTimers, type TxAction } from './transaction-types.js';

export type InviteServerState = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

/** §17.2.1: send 100 Trying ourselves if the TU has not answered within 200 ms. */
export const TRYING_DELAY_MS = 200;

export class InviteServerTransaction {
  private stateNow: InviteServerState = 'proceeding';
  private lastResponse: SipResponse | undefined;
  private timerGMs: number;

  constructor(
    readonly request: SipRequest,
    private readonly timers: TransactionTimers,
    private readonly reliable: boolean,
  ) {
    this.timerGMs = timers.t1Ms;
  }

  get state(): InviteServerState {
    return this.stateNow;
  }

  /** The last response sent (its To tag is reused in the 200 to a CANCEL, RFC 3261 §9.2). */
  get lastSent(): SipResponse | undefined {
    return this.lastResponse;
  }

  start(): TxAction[] {
    return [{ kind: 'setTimer', name: 'Trying', delayMs: TRYING_DELAY_MS }];
  }

  /** The TU answers. */
  respond(res: SipResponse): TxAction[] {
    if (this.stateNow === 'accepted' && res.status >= 200 && res.status < 300) {
      // RFC 6026 §7.1: the TU retransmits its 2xx through the transaction while Accepted.
      return [{ kind: 'send', message: res }];
    }
    if (this.stateNow !== 'proceeding') throw illegal('INVITE server transaction', this.stateNow, `sending ${res.status}`);
    this.lastResponse = res;
    if (isProvisional(res)) return [{ kind: 'clearTimer', name: 'Trying' }, { kind: 'send', message: res }];
    if (res.status < 300) {
      this.stateNow = 'accepted';
      return [{ kind: 'clearTimer', name: 'Trying' }, { kind: 'send', message: res }, { kind: 'setTimer', name: 'L', delayMs: 64 * this.timers.t1Ms }];
    }
    this.stateNow = 'completed';
    const actions: TxAction[] = [{ kind: 'clearTimer', name: 'Trying' }, { kind: 'send', message: res }];
    if (!this.reliable) actions.push({ kind: 'setTimer', name: 'G', delayMs: this.timerGMs });
    actions.push({ kind: 'setTimer', name: 'H', delayMs: 64 * this.timers.t1Ms });
    return actions;
  }

  /** A request matched this transaction: an INVITE retransmission or an ACK. */
  receive(req: SipRequest): TxAction[] {
    if (req.method === 'ACK') {
      switch (this.stateNow) {
        case 'completed':
          this.stateNow = 'confirmed';
          return [
            { kind: 'clearTimer', name: 'G' },
            { kind: 'clearTimer', name: 'H' },
            { kind: 'setTimer', name: 'I', delayMs: this.reliable ? 0 : this.timers.t4Ms },
          ];
        case 'accepted':
          return [{ kind: 'ack', request: req }];
        default:
          return [];
      }
    }
    // Retransmitted INVITE: resend the last provisional (Proceeding) or final (Completed) response.
    if ((this.stateNow === 'proceeding' || this.stateNow === 'completed') && this.lastResponse) {
      return [{ kind: 'send', message: this.lastResponse }];
    }
    return [];
  }

  timer(name: TimerName): TxAction[] {
    switch (`${this.stateNow}:${name}`) {
      case 'proceeding:Trying':
        if (this.lastResponse) return [];
        this.lastResponse = makeResponse(this.request, 100);
        return [{ kind: 'send', message: this.lastResponse }];
      case 'completed:G':
        this.timerGMs = Math.min(2 * this.timerGMs, this.timers.t2Ms);
        return this.lastResponse ? [{ kind: 'send', message: this.lastResponse }, { kind: 'setTimer', name: 'G', delayMs: this.timerGMs }] : [];
      case 'completed:H':
        // §17.2.1: no ACK arrived; the TU is told (a transaction failure).
        this.stateNow = 'terminated';
        return [{ kind: 'clearTimer', name: 'G' }, { kind: 'timeout' }, { kind: 'terminated' }];
      case 'confirmed:I':
      case 'accepted:L':
        this.stateNow = 'terminated';
        return [{ kind: 'terminated' }];
      default:
        return [];
    }
  }

  transportError(): TxAction[] {
    if (this.stateNow === 'terminated') return [];
    this.stateNow = 'terminated';
    return [...(['Trying', 'G', 'H', 'I', 'L'] as const).map((name) => ({ kind: 'clearTimer' as const, name })), { kind: 'timeout' }, { kind: 'terminated' }];
  }

  abort(): TxAction[] {
    if (this.stateNow === 'terminated') throw illegal('INVITE server transaction', this.stateNow, 'abort');
    this.stateNow = 'terminated';
    return [...(['Trying', 'G', 'H', 'I', 'L'] as const).map((name) => ({ kind: 'clearTimer' as const, name })), { kind: 'terminated' }];
  }
}

// RFC 3261 §17.2.2 non-INVITE server transaction.
import type { SipRequest, SipResponse } from '../message/index.js';
import { illegal, isProvisional, type TimerName, type TransactionTimers, type TxAction } from './transaction-types.js';

export type NonInviteServerState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export class NonInviteServerTransaction {
  private stateNow: NonInviteServerState = 'trying';
  private lastResponse: SipResponse | undefined;

  constructor(
    readonly request: SipRequest,
    private readonly timers: TransactionTimers,
    private readonly reliable: boolean,
  ) {}

  get state(): NonInviteServerState {
    return this.stateNow;
  }

  get lastSent(): SipResponse | undefined {
    return this.lastResponse;
  }

  start(): TxAction[] {
    return [];
  }

  respond(res: SipResponse): TxAction[] {
    if (this.stateNow !== 'trying' && this.stateNow !== 'proceeding') throw illegal('non-INVITE server transaction', this.stateNow, `sending ${res.status}`);
    this.lastResponse = res;
    if (isProvisional(res)) {
      this.stateNow = 'proceeding';
      return [{ kind: 'send', message: res }];
    }
    this.stateNow = 'completed';
    return [{ kind: 'send', message: res }, { kind: 'setTimer', name: 'J', delayMs: this.reliable ? 0 : 64 * this.timers.t1Ms }];
  }

  /** A retransmission of the request: absorbed while Trying, answered with the last response after. */
  receive(_req: SipRequest): TxAction[] {
    if ((this.stateNow === 'proceeding' || this.stateNow === 'completed') && this.lastResponse) return [{ kind: 'send', message: this.lastResponse }];
    return [];
  }

  timer(name: TimerName): TxAction[] {
    if (this.stateNow === 'completed' && name === 'J') {
      this.stateNow = 'terminated';
      return [{ kind: 'terminated' }];
    }
    return [];
  }

  transportError(): TxAction[] {
    if (this.stateNow === 'terminated') return [];
    this.stateNow = 'terminated';
    return [{ kind: 'clearTimer', name: 'J' }, { kind: 'terminated' }];
  }

  abort(): TxAction[] {
    if (this.stateNow === 'terminated') throw illegal('non-INVITE server transaction', this.stateNow, 'abort');
    this.stateNow = 'terminated';
    return [{ kind: 'clearTimer', name: 'J' }, { kind: 'terminated' }];
  }
}

// RFC 3261 §17.1.2 non-INVITE client transaction (REGISTER, OPTIONS, BYE, PRACK, ...).
import type { SipRequest, SipResponse } from '../message/index.js';
import { illegal, isProvisional, type TimerName, type TransactionTimers, type TxAction } from './transaction-types.js';

export type NonInviteClientState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export class NonInviteClientTransaction {
  private stateNow: NonInviteClientState = 'trying';
  private timerEMs: number;

  constructor(
    readonly request: SipRequest,
    private readonly timers: TransactionTimers,
    private readonly reliable: boolean,
  ) {
    this.timerEMs = timers.t1Ms;
  }

  get state(): NonInviteClientState {
    return this.stateNow;
  }

  start(): TxAction[] {
    const actions: TxAction[] = [{ kind: 'send', message: this.request }];
    if (!this.reliable) actions.push({ kind: 'setTimer', name: 'E', delayMs: this.timerEMs });
    actions.push({ kind: 'setTimer', name: 'F', delayMs: 64 * this.timers.t1Ms });
    return actions;
  }

  receive(res: SipResponse): TxAction[] {
    switch (this.stateNow) {
      case 'trying':
      case 'proceeding':
        if (isProvisional(res)) {
          this.stateNow = 'proceeding';
          return [{ kind: 'response', response: res }];
        }
        this.stateNow = 'completed';
        return [
          { kind: 'clearTimer', name: 'E' },
          { kind: 'clearTimer', name: 'F' },
          { kind: 'response', response: res },
          { kind: 'setTimer', name: 'K', delayMs: this.reliable ? 0 : this.timers.t4Ms },
        ];
      case 'completed':
      case 'terminated':
        return []; // §17.1.2.2: retransmitted responses are absorbed
    }
  }

  timer(name: TimerName): TxAction[] {
    switch (`${this.stateNow}:${name}`) {
      case 'trying:E':
        // §17.1.2.2: doubling up to T2 while trying...
        this.timerEMs = Math.min(2 * this.timerEMs, this.timers.t2Ms);
        return [{ kind: 'send', message: this.request }, { kind: 'setTimer', name: 'E', delayMs: this.timerEMs }];
      case 'proceeding:E':
        // ...and every T2 once a provisional response arrived.
        return [{ kind: 'send', message: this.request }, { kind: 'setTimer', name: 'E', delayMs: this.timers.t2Ms }];
      case 'trying:F':
      case 'proceeding:F':
        this.stateNow = 'terminated';
        return [{ kind: 'clearTimer', name: 'E' }, { kind: 'timeout' }, { kind: 'terminated' }];
      case 'completed:K':
        this.stateNow = 'terminated';
        return [{ kind: 'terminated' }];
      default:
        return [];
    }
  }

  transportError(): TxAction[] {
    if (this.stateNow === 'terminated') return [];
    const wasPending = this.stateNow !== 'completed';
    this.stateNow = 'terminated';
    return [{ kind: 'clearTimer', name: 'E' }, { kind: 'clearTimer', name: 'F' }, ...(wasPending ? [{ kind: 'timeout' } as const] : []), { kind: 'terminated' }];
  }

  abort(): TxAction[] {
    if (this.stateNow === 'terminated') throw illegal('non-INVITE client transaction', this.stateNow, 'abort');
    this.stateNow = 'terminated';
    return [{ kind: 'clearTimer', name: 'E' }, { kind: 'clearTimer', name: 'F' }, { kind: 'clearTimer', name: 'K' }, { kind: 'terminated' }];
  }
}

// RFC 3261 §17.1.1 INVITE client transaction, with RFC 6026's Accepted state (2xx responses and
// their retransmissions go to the TU, which ACKs them; Timer M ends the transaction).
import { SipHeaders, getCSeq, type SipRequest, type SipResponse } from '../message/index.js';
import { illegal, isProvisional, type TimerName, type TransactionTimers, type TxAction } from './transaction-types.js';

export type InviteClientState = 'calling' | 'proceeding' | 'accepted' | 'completed' | 'terminated';

export class InviteClientTransaction {
  private stateNow: InviteClientState = 'calling';
  private timerAMs: number;

  constructor(
    readonly request: SipRequest,
    private readonly timers: TransactionTimers,
    private readonly reliable: boolean,
  ) {
    this.timerAMs = timers.t1Ms;
  }

  get state(): InviteClientState {
    return this.stateNow;
  }

  start(): TxAction[] {
    const actions: TxAction[] = [{ kind: 'send', message: this.request }];
    if (!this.reliable) actions.push({ kind: 'setTimer', name: 'A', delayMs: this.timerAMs });
    actions.push({ kind: 'setTimer', name: 'B', delayMs: 64 * this.timers.t1Ms });
    return actions;
  }

  receive(res: SipResponse): TxAction[] {
    switch (this.stateNow) {
      case 'calling':
      case 'proceeding':
        if (isProvisional(res)) {
          const leaving = this.stateNow === 'calling';
          this.stateNow = 'proceeding';
          return [...(leaving ? this.clear('A', 'B') : []), { kind: 'response', response: res }];
        }
        if (res.status < 300) {
          this.stateNow = 'accepted';
          return [...this.clear('A', 'B'), { kind: 'response', response: res }, { kind: 'setTimer', name: 'M', delayMs: 64 * this.timers.t1Ms }];
        }
        this.stateNow = 'completed';
        return [
          ...this.clear('A', 'B'),
          { kind: 'send', message: this.ack(res) },
          { kind: 'response', response: res },
          { kind: 'setTimer', name: 'D', delayMs: this.reliable ? 0 : 32_000 },
        ];
      case 'accepted':
        // RFC 6026 §8.4: 2xx retransmissions (and 2xx from other forks) go to the TU.
        return res.status >= 200 && res.status < 300 ? [{ kind: 'response', response: res }] : [];
      case 'completed':
        // §17.1.1.2: a retransmitted final response gets the ACK again, and is not passed up.
        return res.status >= 300 ? [{ kind: 'send', message: this.ack(res) }] : [];
      case 'terminated':
        return [];
    }
  }

  timer(name: TimerName): TxAction[] {
    switch (`${this.stateNow}:${name}`) {
      case 'calling:A':
        this.timerAMs *= 2;
        return [{ kind: 'send', message: this.request }, { kind: 'setTimer', name: 'A', delayMs: this.timerAMs }];
      case 'calling:B':
        this.stateNow = 'terminated';
        return [...this.clear('A'), { kind: 'timeout' }, { kind: 'terminated' }];
      case 'completed:D':
      case 'accepted:M':
        this.stateNow = 'terminated';
        return [{ kind: 'terminated' }];
      default:
        return []; // a timer that raced with a transition
    }
  }

  /** §17.1.1.2: a transport error while calling ends the transaction; the TU hears a timeout-like failure. */
  transportError(): TxAction[] {
    if (this.stateNow === 'terminated') return [];
    if (this.stateNow !== 'calling' && this.stateNow !== 'proceeding') {
      this.stateNow = 'terminated';
      return [{ kind: 'terminated' }];
    }
    this.stateNow = 'terminated';
    return [...this.clear('A', 'B'), { kind: 'timeout' }, { kind: 'terminated' }];
  }

  /** Ends the transaction at once (the owner is closing). */
  abort(): TxAction[] {
    if (this.stateNow === 'terminated') throw illegal('INVITE client transaction', this.stateNow, 'abort');
    this.stateNow = 'terminated';
    return [...this.clear('A', 'B', 'D', 'M'), { kind: 'terminated' }];
  }

  /** §17.1.1.3: the ACK for a non-2xx final response belongs to the transaction. */
  private ack(res: SipResponse): SipRequest {
    const h = new SipHeaders();
    const inv = this.request.headers;
    const topVia = inv.getAll('Via')[0];
    if (topVia !== undefined) h.append('Via', topVia);
    for (const r of inv.getAll('Route')) h.append('Route', r);
    h.append('Max-Forwards', '70');
    h.append('From', inv.get('From') ?? '');
    h.append('To', res.headers.get('To') ?? inv.get('To') ?? '');
    h.append('Call-ID', inv.get('Call-ID') ?? '');
    h.append('CSeq', `${getCSeq(this.request).seq} ACK`);
    h.append('Content-Length', '0');
    return { kind: 'request', method: 'ACK', uri: this.request.uri, headers: h, body: new Uint8Array(0) };
  }

  private clear(...names: TimerName[]): TxAction[] {
    return names.map((name) => ({ kind: 'clearTimer', name }));
  }
}

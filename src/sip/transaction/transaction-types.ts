// What the four RFC 3261 §17 transaction state machines share: their actions, timer names and
// the typed error for an illegal transition. The machines are pure; transaction-layer.ts runs them.
import { CodedError } from '../../util/errors.js';
import type { SipRequest, SipResponse } from '../message/index.js';

export interface TransactionTimers {
  /** RFC 3261 T1: RTT estimate (default 500 ms). */
  readonly t1Ms: number;
  /** T2: maximum retransmit interval for non-INVITE requests and INVITE responses (4 s). */
  readonly t2Ms: number;
  /** T4: maximum duration a message remains in the network (5 s). */
  readonly t4Ms: number;
}

export const DEFAULT_TIMERS: TransactionTimers = { t1Ms: 500, t2Ms: 4000, t4Ms: 5000 };

/** Timers of RFC 3261 §17 (A-K), RFC 6026 (L, M) and the 200 ms 100 Trying timer of §17.2.1. */
export type TimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M' | 'Trying';

export type TxAction =
  /** Send (or resend) this message to the transaction's peer. */
  | { kind: 'send'; message: SipRequest | SipResponse }
  | { kind: 'setTimer'; name: TimerName; delayMs: number }
  | { kind: 'clearTimer'; name: TimerName }
  /** Client transactions: a response for the TU. */
  | { kind: 'response'; response: SipResponse }
  /** Server INVITE transactions (RFC 6026 Accepted): an ACK for a 2xx, for the TU. */
  | { kind: 'ack'; request: SipRequest }
  /** Timer B/F fired, or Timer H (no ACK) for a server transaction. */
  | { kind: 'timeout' }
  | { kind: 'terminated' };

export class TransactionError extends CodedError<'illegal-transition' | 'bad-response'> {}

export function illegal(machine: string, from: string, event: string): TransactionError {
  return new TransactionError('illegal-transition', `${machine}: ${event} is not allowed in state ${from}`);
}

export function isProvisional(r: SipResponse): boolean {
  return r.status >= 100 && r.status < 200;
}

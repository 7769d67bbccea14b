// nat/stun/binding-transaction.ts: one STUN Binding transaction as a pure state machine, with
// RFC 8489 §6.2.1's retransmissions over UDP. The driver (stun-client.ts) owns socket and timer:
// it sends what `send` says, calls wake() at `wakeAt`, and reports `done`.
import type { StunAddress } from './stun-address.js';
import { STUN_METHOD_BINDING } from './stun-constants.js';
import type { IntegrityAlgorithm } from './stun-crypto.js';
import { StunError } from './stun-error.js';
import { verifyMessageIntegrity } from './stun-integrity.js';
import {
  encodeStunMessage, getAttribute, unknownComprehensionRequired, type DecodedStunMessage, type StunMessage,
} from './stun-message.js';

/** RFC 8489 §6.2.1 defaults: initial RTO, total sends (Rc), and the last wait as a multiple of RTO (Rm). */
export const STUN_RTO_MS = 500;
export const STUN_RC = 7;
export const STUN_RM = 16;

export interface BindingTransactionOptions {
  /** The Binding request; its transaction id names the transaction. */
  readonly request: StunMessage;
  /** Short-term credentials: the request carries MESSAGE-INTEGRITY, and responses must too (RFC 8489 §9.1.4). */
  readonly integrity?: { readonly key: Uint8Array; readonly algorithm?: IntegrityAlgorithm };
  /** Append FINGERPRINT to the request (default true: the socket may be shared, RFC 8489 §7). */
  readonly fingerprint?: boolean;
  readonly rtoMs?: number;
  readonly rc?: number;
  readonly rm?: number;
}

export type BindingOutcome =
  | {
      readonly kind: 'success';
      readonly response: DecodedStunMessage;
      /** XOR-MAPPED-ADDRESS, or MAPPED-ADDRESS from a server that sends only that (RFC 8489 §14.1). */
      readonly mappedAddress: StunAddress;
      /** RFC 5780 RESPONSE-ORIGIN, or RFC 3489 SOURCE-ADDRESS. */
      readonly responseOrigin: StunAddress | undefined;
      /** RFC 5780 OTHER-ADDRESS, or RFC 3489 CHANGED-ADDRESS. */
      readonly otherAddress: StunAddress | undefined;
      /** Karn's rule: only measured when the request was sent once. */
      readonly rttMs: number | undefined;
    }
  | {
      readonly kind: 'error-response';
      readonly response: DecodedStunMessage;
      readonly code: number;
      readonly reason: string;
      /** The types a 420 lists (RFC 8489 §14.13). */
      readonly unknownAttributes: readonly number[];
      /** Where a 300 redirects to (RFC 8489 §10). */
      readonly alternateServer: StunAddress | undefined;
    }
  /** RFC 8489 §6.3.3, §6.3.4: an unusable response fails the transaction. */
  | { readonly kind: 'malformed-response'; readonly response: DecodedStunMessage; readonly problem: string }
  | { readonly kind: 'timeout'; readonly sends: number; readonly elapsedMs: number };

export type BindingAction =
  | { readonly kind: 'send'; readonly bytes: Uint8Array }
  | { readonly kind: 'wakeAt'; readonly atMs: number }
  | { readonly kind: 'done'; readonly outcome: BindingOutcome };

export type BindingTransactionState = 'idle' | 'trying' | 'done';

const TRANSITIONS: Readonly<Record<BindingTransactionState, readonly BindingTransactionState[]>> = {
  idle: ['trying'],
  trying: ['done'],
  done: [],
};

const sameId = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export class BindingTransaction {
  readonly transactionId: Uint8Array;
  private readonly bytes: Uint8Array;
  private readonly rtoMs: number;
  private readonly rc: number;
  private readonly rm: number;
  private currentState: BindingTransactionState = 'idle';
  private sent = 0;
  private startedMs = 0;
  private nextWakeMs = 0;

  constructor(private readonly options: BindingTransactionOptions) {
    const { request } = options;
    if (request.method !== STUN_METHOD_BINDING || request.class !== 'request') {
      throw new StunError('bad-value', `not a Binding request: method ${request.method}, class ${request.class}`);
    }
    this.rtoMs = options.rtoMs ?? STUN_RTO_MS;
    this.rc = options.rc ?? STUN_RC;
    this.rm = options.rm ?? STUN_RM;
    if (!(this.rtoMs > 0) || !Number.isInteger(this.rc) || this.rc < 1 || !(this.rm > 0)) {
      throw new StunError('bad-value', `retransmission parameters RTO ${this.rtoMs} ms, Rc ${this.rc}, Rm ${this.rm}`);
    }
    this.transactionId = request.transactionId;
    this.bytes = encodeStunMessage(request, {
      ...(options.integrity ? { integrity: options.integrity } : {}),
      fingerprint: options.fingerprint ?? true,
    });
  }

  get state(): BindingTransactionState {
    return this.currentState;
  }

  /** Requests sent so far, the first one included. */
  get sends(): number {
    return this.sent;
  }

  start(nowMs: number): BindingAction[] {
    this.moveTo('trying');
    this.startedMs = nowMs;
    return this.transmit(nowMs);
  }

  /** Feeds a decoded message; anything that is not a response to this transaction is ignored ([]). */
  receive(msg: DecodedStunMessage, nowMs: number): BindingAction[] {
    if (this.currentState === 'idle') throw new StunError('bad-state', 'binding transaction: receive in state idle, before start');
    if (this.currentState === 'done' || !this.isOurResponse(msg)) return [];
    return this.finish(this.outcomeOf(msg, nowMs));
  }

  /** Called at (or after) the last `wakeAt`: retransmits with a doubled RTO, or gives up after Rc sends. */
  wake(nowMs: number): BindingAction[] {
    if (this.currentState === 'idle') throw new StunError('bad-state', 'binding transaction: wake in state idle, before start');
    if (this.currentState === 'done') return [];
    if (nowMs < this.nextWakeMs) return [{ kind: 'wakeAt', atMs: this.nextWakeMs }];
    if (this.sent < this.rc) return this.transmit(nowMs);
    return this.finish({ kind: 'timeout', sends: this.sent, elapsedMs: nowMs - this.startedMs });
  }

  private transmit(nowMs: number): BindingAction[] {
    this.sent++;
    // RFC 8489 §6.2.1: waits of RTO, 2×RTO, 4×RTO, ... between sends, then Rm×RTO after the Rc-th.
    const waitMs = this.sent < this.rc ? this.rtoMs * 2 ** (this.sent - 1) : this.rm * this.rtoMs;
    this.nextWakeMs = nowMs + waitMs;
    return [
      { kind: 'send', bytes: this.bytes },
      { kind: 'wakeAt', atMs: this.nextWakeMs },
    ];
  }

  private isOurResponse(msg: DecodedStunMessage): boolean {
    if (msg.method !== STUN_METHOD_BINDING || (msg.class !== 'success' && msg.class !== 'error')) return false;
    if (!sameId(msg.transactionId, this.transactionId)) return false;
    const integrity = this.options.integrity;
    if (!integrity) return true;
    // RFC 8489 §9.1.4: over UDP a response whose MESSAGE-INTEGRITY is missing or wrong is discarded,
    // so a forged answer cannot end the transaction. 401 and 438 carry no integrity (§9.2.5).
    const code = getAttribute(msg, 'error-code')?.code;
    if (msg.class === 'error' && (code === 401 || code === 438)) return true;
    return verifyMessageIntegrity(msg, integrity.key, integrity.algorithm);
  }

  private outcomeOf(response: DecodedStunMessage, nowMs: number): BindingOutcome {
    const unknown = unknownComprehensionRequired(response);
    if (unknown.length > 0) {
      const list = unknown.map((t) => `0x${t.toString(16).padStart(4, '0')}`).join(', ');
      return { kind: 'malformed-response', response, problem: `unknown comprehension-required attributes ${list}` };
    }
    if (response.class === 'error') {
      const error = getAttribute(response, 'error-code');
      if (!error) return { kind: 'malformed-response', response, problem: 'error response without ERROR-CODE' };
      return {
        kind: 'error-response',
        response,
        code: error.code,
        reason: error.reason,
        unknownAttributes: getAttribute(response, 'unknown-attributes')?.types ?? [],
        alternateServer: getAttribute(response, 'alternate-server')?.address,
      };
    }
    const mapped = (getAttribute(response, 'xor-mapped-address') ?? getAttribute(response, 'mapped-address'))?.address;
    if (!mapped) return { kind: 'malformed-response', response, problem: 'success response without a mapped address' };
    return {
      kind: 'success',
      response,
      mappedAddress: mapped,
      responseOrigin: (getAttribute(response, 'response-origin') ?? getAttribute(response, 'source-address'))?.address,
      otherAddress: (getAttribute(response, 'other-address') ?? getAttribute(response, 'changed-address'))?.address,
      rttMs: this.sent === 1 ? nowMs - this.startedMs : undefined,
    };
  }

  private finish(outcome: BindingOutcome): BindingAction[] {
    this.moveTo('done');
    return [{ kind: 'done', outcome }];
  }

  private moveTo(next: BindingTransactionState): void {
    if (!TRANSITIONS[this.currentState].includes(next)) {
      throw new StunError('bad-state', `binding transaction: no transition from ${this.currentState} to ${next}`);
    }
    this.currentState = next;
  }
}

// RFC 5626 §4.4 keep-alives of a registration's flow, as a pure machine. Two modes:
// - 'outbound': the registrar supports SIP Outbound (Require: outbound in its 2xx), so every
//   keep-alive is answered (STUN Binding response over UDP, CRLF pong over TCP/TLS); no answer
//   within the timeout means the flow died and the profile registers a new one (§4.4.1, §4.5).
// - 'nat': the registrar does not support it; keep-alives only keep the NAT binding open
//   (a CRLFCRLF over UDP is ignored by SIP servers), nothing is expected back.
// Intervals are random between 80 % and 100 % of the nominal one (§4.4.1), so phones behind
// one NAT do not send in lock-step.

export type KeepaliveMode = 'outbound' | 'nat';

export type KeepaliveAction =
  | { kind: 'ping'; expectAnswer: boolean }
  | { kind: 'wakeAt'; atMs: number }
  /** No answer in time (outbound mode): the flow is dead, register again. */
  | { kind: 'failed' };

/** §4.4.1: "If a pong is not received within 10 seconds" the flow has failed. */
export const KEEPALIVE_ANSWER_TIMEOUT_MS = 10_000;

export class FlowKeepalive {
  private awaitingSinceMs: number | undefined;
  private stopped = false;

  constructor(
    readonly mode: KeepaliveMode,
    readonly intervalMs: number,
    private readonly random: () => number = Math.random,
    private readonly answerTimeoutMs = KEEPALIVE_ANSWER_TIMEOUT_MS,
  ) {
    if (!(intervalMs > 0)) throw new RangeError(`keep-alive interval must be positive, got ${intervalMs}`);
  }

  start(nowMs: number): KeepaliveAction[] {
    this.stopped = false;
    this.awaitingSinceMs = undefined;
    return [{ kind: 'wakeAt', atMs: this.nextAt(nowMs) }];
  }

  wake(nowMs: number): KeepaliveAction[] {
    if (this.stopped) return [];
    if (this.awaitingSinceMs !== undefined) {
      if (nowMs - this.awaitingSinceMs >= this.answerTimeoutMs) {
        this.stopped = true;
        return [{ kind: 'failed' }];
      }
      return [{ kind: 'wakeAt', atMs: this.awaitingSinceMs + this.answerTimeoutMs }];
    }
    if (this.mode === 'outbound') {
      this.awaitingSinceMs = nowMs;
      return [{ kind: 'ping', expectAnswer: true }, { kind: 'wakeAt', atMs: nowMs + this.answerTimeoutMs }];
    }
    return [{ kind: 'ping', expectAnswer: false }, { kind: 'wakeAt', atMs: this.nextAt(nowMs) }];
  }

  /** The answer to the last keep-alive came back: the flow is alive. */
  answered(nowMs: number): KeepaliveAction[] {
    if (this.stopped || this.awaitingSinceMs === undefined) return [];
    this.awaitingSinceMs = undefined;
    return [{ kind: 'wakeAt', atMs: this.nextAt(nowMs) }];
  }

  stop(): void {
    this.stopped = true;
  }

  private nextAt(nowMs: number): number {
    return nowMs + this.intervalMs * (0.8 + 0.2 * this.random());
  }
}

// The transaction layer (RFC 3261 §17): creates client transactions, matches responses and
// requests to transactions (§17.1.3, §17.2.3, and the RFC 2543 fallback), runs the pure state
// machines with real timers, and hands what is not a retransmission to the transaction user.
import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle } from '../../util/clock.js';
import {
  formatUri, getCSeq, getCallId, getFrom, serializeMessage, topVia, type SipRequest, type SipResponse, type Via,
} from '../message/index.js';
import { InviteClientTransaction } from './invite-client-transaction.js';
import { InviteServerTransaction } from './invite-server-transaction.js';
import { NonInviteClientTransaction } from './non-invite-client-transaction.js';
import { NonInviteServerTransaction } from './non-invite-server-transaction.js';
import { CompletedResponses, type CompletedDestination } from './completed-responses.js';
import type { TimerName, TransactionTimers, TxAction } from './transaction-types.js';

export const MAGIC_COOKIE = 'z9hG4bK';

/** Where a transaction's messages go; opaque to this layer, given back to `send`. */
export interface Peer {
  readonly transport: string;
  readonly address: string;
  readonly port: number;
  /** Reliable transports (TCP, TLS) use no retransmission timers. */
  readonly reliable: boolean;
  readonly connectionId?: string;
}

export type ClientEvents = {
  onResponse(res: SipResponse): void;
  /** Timer B/F fired or the transport failed (§8.1.3.1: treat as 408/503). */
  onTimeout(reason: 'timeout' | 'transport-error'): void;
  onTerminated?(): void;
};

/** The layer above (UA core) as the transaction layer sees it — SIP.js's TransactionUser. */
export interface TransactionUser {
  /** A new request (not a retransmission). */
  onRequest(tx: ServerTransaction, req: SipRequest, peer: Peer): void;
  /** An ACK for a 2xx, or any ACK that matches no transaction (§17.2.3). */
  onAck(req: SipRequest, peer: Peer): void;
  /** A response that matches no client transaction: e.g. a 2xx retransmission after Timer M. */
  onStrayResponse(res: SipResponse, peer: Peer): void;
  /** The INVITE server transaction got no ACK (Timer H) or its transport failed. */
  onServerTimeout?(tx: ServerTransaction): void;
}

export interface TransactionLayerOptions {
  readonly clock: Clock;
  /** Read at each new transaction, so T1/T2/T4 changes in the registry apply live. */
  readonly timers: () => TransactionTimers;
  /** Sends a message; throws (or rejects) on a transport error. */
  readonly send: (msg: SipRequest | SipResponse, peer: Peer) => void | Promise<void>;
  readonly user: TransactionUser;
  /** Top Via sent-by for requests we send over a transport ("UDP" etc.). */
  readonly sentBy: (transport: string) => { host: string; port: number };
  /** Ask for rport (RFC 3581) in our Vias. */
  readonly rport?: () => boolean;
  readonly onError?: (err: unknown) => void;
  /**
   * A final response serialised once, with where it goes (RFC 3261 §18.2.2), for the compact
   * Completed state. Without it the response goes back to the request's source.
   */
  readonly freezeResponse?: (res: SipResponse, peer: Peer) => { bytes: Uint8Array; dest: CompletedDestination };
  /** Sends bytes already serialised: a retransmission from the compact Completed state. */
  readonly sendBytes: (bytes: Buffer, dest: CompletedDestination) => void | Promise<void>;
}

type Machine = InviteClientTransaction | NonInviteClientTransaction | InviteServerTransaction | NonInviteServerTransaction;

const TERMINATE: readonly TxAction[] = [{ kind: 'terminated' }];

abstract class Runner {
  /** Made on the first timer: most server transactions over UDP never start one (see ServerTransaction). */
  private timers: Map<TimerName, TimerHandle> | undefined;
  terminated = false;
  /** Set when a send failed, so the TU hears "transport-error" rather than "timeout". */
  protected transportFailed = false;

  constructor(
    protected readonly layer: TransactionLayer,
    readonly machine: Machine,
    readonly peer: Peer,
    readonly key: string,
  ) {}

  run(actions: readonly TxAction[]): void {
    for (const a of actions) {
      // A send that failed synchronously may already have ended the transaction.
      if (this.terminated) return;
      switch (a.kind) {
        case 'send':
          this.layer.transmit(a.message, this.peer, this);
          break;
        case 'setTimer':
          this.startTimer(a.name, a.delayMs);
          break;
        case 'clearTimer':
          if (this.timers) {
            this.layer.clock.cancel(this.timers.get(a.name));
            this.timers.delete(a.name);
          }
          break;
        case 'terminated':
          this.terminated = true;
          if (this.timers) {
            for (const t of this.timers.values()) this.layer.clock.cancel(t);
            this.timers.clear();
          }
          this.layer.forget(this);
          this.onTerminated();
          if (this.terminationListeners) for (const fn of this.terminationListeners.splice(0)) this.layer.guard(fn);
          break;
        default:
          this.deliver(a);
      }
    }
  }

  protected startTimer(name: TimerName, delayMs: number): void {
    this.timers ??= new Map();
    this.layer.clock.cancel(this.timers.get(name));
    this.timers.set(name, this.layer.clock.setTimer(delayMs, () => {
      this.timers?.delete(name);
      if (!this.terminated) this.run(this.machine.timer(name));
    }));
  }

  /** @internal The transport could not send one of our messages. */
  sendFailed(): void {
    if (this.terminated) return;
    this.transportFailed = true;
    this.run(this.machine.transportError());
  }

  protected abstract deliver(a: TxAction): void;
  protected onTerminated(): void {}
  private terminationListeners: Array<() => void> | undefined;

  /** Runs `fn` once the transaction has ended (at once if it already has). */
  whenTerminated(fn: () => void): void {
    if (this.terminated) fn();
    else (this.terminationListeners ??= []).push(fn);
  }

  /** Ends the transaction now (shutdown). */
  close(): void {
    if (!this.terminated) this.run(this.machine.abort());
  }
}

export class ClientTransaction extends Runner {
  constructor(layer: TransactionLayer, machine: InviteClientTransaction | NonInviteClientTransaction, peer: Peer, key: string, private readonly events: ClientEvents) {
    super(layer, machine, peer, key);
  }

  get request(): SipRequest {
    return this.machine.request;
  }

  get branch(): string {
    return this.key.split('\u0000')[0] ?? '';
  }

  get state(): string {
    return this.machine.state;
  }

  receive(res: SipResponse): void {
    this.run((this.machine as InviteClientTransaction | NonInviteClientTransaction).receive(res));
  }

  protected deliver(a: TxAction): void {
    if (a.kind === 'response') this.layer.guard(() => this.events.onResponse(a.response));
    else if (a.kind === 'timeout') this.layer.guard(() => this.events.onTimeout(this.transportFailed ? 'transport-error' : 'timeout'));
  }

  protected override onTerminated(): void {
    this.layer.guard(() => this.events.onTerminated?.());
  }
}

export class ServerTransaction extends Runner {
  /** A final response has been sent (a non-INVITE request without one is swept after 64*T1). */
  answered = false;

  constructor(layer: TransactionLayer, machine: InviteServerTransaction | NonInviteServerTransaction, peer: Peer, key: string, readonly arrivedMs: number) {
    super(layer, machine, peer, key);
  }

  get request(): SipRequest {
    return this.machine.request;
  }

  get state(): string {
    return this.machine.state;
  }

  get lastResponse(): SipResponse | undefined {
    return (this.machine as InviteServerTransaction | NonInviteServerTransaction).lastSent;
  }

  /** The TU answers the request. */
  respond(res: SipResponse): void {
    if (this.terminated) return;
    if (res.status >= 200) this.answered = true;
    this.run((this.machine as InviteServerTransaction | NonInviteServerTransaction).respond(res));
  }

  /**
   * RFC 3261 §17.2.2: over UDP a non-INVITE server transaction stays in Completed for Timer J
   * (64*T1) only to answer retransmissions of its request with its final response. The layer's
   * completed store does exactly that from the response's bytes until Timer J would fire, so
   * this transaction ends here instead of holding a timer and its objects for 32 s.
   */
  protected override startTimer(name: TimerName, delayMs: number): void {
    const machine = this.machine;
    if (name === 'J' && !this.peer.reliable && machine instanceof NonInviteServerTransaction && machine.lastSent) {
      this.layer.compact(this, machine.lastSent, delayMs);
      this.run(TERMINATE);
      return;
    }
    super.startTimer(name, delayMs);
  }

  receive(req: SipRequest): void {
    this.run((this.machine as InviteServerTransaction | NonInviteServerTransaction).receive(req));
  }

  /** @internal A non-INVITE request still waiting for the TU's final response. */
  get awaitingFinal(): boolean {
    return !this.answered && !this.terminated && this.machine instanceof NonInviteServerTransaction;
  }

  protected deliver(a: TxAction): void {
    if (a.kind === 'ack') this.layer.guard(() => this.layer.user.onAck(a.request, this.peer));
    else if (a.kind === 'timeout') this.layer.guard(() => this.layer.user.onServerTimeout?.(this));
  }
}

function viaSentBy(v: Via): string {
  return `${v.host}:${v.port ?? ''}`;
}

/** §17.2.3 server key: branch + sent-by + method (ACK matches INVITE); RFC 2543 fallback otherwise. */
export function serverKey(req: SipRequest): string {
  const via = topVia(req);
  const method = req.method === 'ACK' ? 'INVITE' : req.method;
  const branch = via.params.get('branch');
  if (branch?.startsWith(MAGIC_COOKIE) && branch.length > MAGIC_COOKIE.length) return `${branch}\u0000${viaSentBy(via)}\u0000${method}`;
  // RFC 2543: Request-URI, From tag, Call-ID, CSeq number and top Via identify the transaction
  // (the To tag is left out so the ACK, which carries it, matches its INVITE).
  return `2543\u0000${formatUri(req.uri)}\u0000${getFrom(req).params.get('tag') ?? ''}\u0000${getCallId(req)}\u0000${getCSeq(req).seq}\u0000${viaSentBy(via)}\u0000${method}`;
}

/** §17.1.3 client key: branch of the top Via + CSeq method. */
export function clientKey(branch: string, cseqMethod: string): string {
  return `${branch}\u0000${cseqMethod === 'ACK' ? 'INVITE' : cseqMethod}`;
}

const SWEEP_MS = 1000;

export class TransactionLayer {
  readonly clock: Clock;
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  private readonly completed = new CompletedResponses();
  private sweeper: TimerHandle | undefined;
  private closed = false;

  constructor(private readonly options: TransactionLayerOptions) {
    this.clock = options.clock;
  }

  get user(): TransactionUser {
    return this.options.user;
  }

  get counts(): { client: number; server: number } {
    return { client: this.clients.size, server: this.servers.size + this.completed.size };
  }

  /** @internal The Completed state of a non-INVITE server transaction over UDP, kept compact until Timer J. */
  compact(tx: ServerTransaction, response: SipResponse, timerJMs: number): void {
    const frozen = this.options.freezeResponse?.(response, tx.peer) ?? { bytes: serializeMessage(response), dest: tx.peer };
    this.completed.add(tx.key, frozen.bytes, frozen.dest, this.clock.now() + timerJMs);
    this.armSweeper(false);
  }

  private sweep(): void {
    this.sweeper = undefined;
    const now = this.clock.now();
    // A request the TU never answers must not hold memory forever: 64*T1, then it goes. The
    // table's order is arrival order, so the first one waiting for less than that ends the look.
    const limitMs = 64 * this.options.timers().t1Ms;
    let waiting = false;
    for (const tx of this.servers.values()) {
      if (!tx.awaitingFinal) continue;
      if (now - tx.arrivedMs < limitMs) {
        waiting = true;
        break;
      }
      tx.close();
    }
    this.completed.sweep(now);
    this.armSweeper(waiting);
  }

  private armSweeper(unanswered: boolean): void {
    if (!this.sweeper && !this.closed && (this.completed.size > 0 || unanswered)) this.sweeper = this.clock.setTimer(SWEEP_MS, () => this.sweep());
  }

  static newBranch(): string {
    return `${MAGIC_COOKIE}${randomBytes(9).toString('base64url')}`;
  }

  /**
   * Sends a request in a new client transaction. The layer puts our Via on top (with a new
   * branch) unless the request is a CANCEL, which must reuse the INVITE's Via (§9.1).
   */
  request(req: SipRequest, peer: Peer, events: ClientEvents): ClientTransaction {
    if (this.closed) throw new Error('transaction layer closed');
    if (req.method === 'ACK') throw new Error('an ACK is not sent in a transaction (use sendStateless)');
    let branch: string;
    if (req.method === 'CANCEL' && req.headers.has('Via')) {
      branch = topVia(req).params.get('branch') ?? TransactionLayer.newBranch();
    } else {
      branch = TransactionLayer.newBranch();
      const sb = this.options.sentBy(peer.transport);
      const host = sb.host.includes(':') && !sb.host.startsWith('[') ? `[${sb.host}]` : sb.host;
      req.headers.prepend('Via', `SIP/2.0/${peer.transport.toUpperCase()} ${host}:${sb.port};branch=${branch}${this.options.rport?.() === false ? '' : ';rport'}`);
    }
    const timers = this.options.timers();
    const machine = req.method === 'INVITE' ? new InviteClientTransaction(req, timers, peer.reliable) : new NonInviteClientTransaction(req, timers, peer.reliable);
    const key = clientKey(branch, req.method);
    const tx = new ClientTransaction(this, machine, peer, key, events);
    this.clients.set(key, tx);
    tx.run(machine.start());
    return tx;
  }

  /** Sends outside any transaction: the ACK for a 2xx (§13.2.2.4) and stateless responses. */
  sendStateless(msg: SipRequest | SipResponse, peer: Peer): void {
    if (msg.kind === 'request' && !msg.headers.has('Via')) {
      const sb = this.options.sentBy(peer.transport);
      msg.headers.prepend('Via', `SIP/2.0/${peer.transport.toUpperCase()} ${sb.host}:${sb.port};branch=${TransactionLayer.newBranch()}${this.options.rport?.() === false ? '' : ';rport'}`);
    }
    this.transmit(msg, peer, undefined);
  }

  /** Everything the transport receives comes here. */
  receive(msg: SipRequest | SipResponse, peer: Peer): void {
    if (this.closed) return;
    if (msg.kind === 'response') {
      const branch = topVia(msg).params.get('branch') ?? '';
      const tx = this.clients.get(clientKey(branch, getCSeq(msg).method));
      if (tx) tx.receive(msg);
      else this.guard(() => this.options.user.onStrayResponse(msg, peer));
      return;
    }
    const key = serverKey(msg);
    const existing = this.servers.get(key);
    if (existing) {
      existing.receive(msg);
      return;
    }
    const done = this.completed.get(key);
    if (done) {
      // §17.2.2: a retransmission in Completed gets the final response again.
      this.guard(() => {
        const r = this.options.sendBytes(done.bytes, done.dest);
        if (r) r.catch((err: unknown) => this.options.onError?.(err));
      });
      return;
    }
    if (msg.method === 'ACK') {
      this.guard(() => this.options.user.onAck(msg, peer));
      return;
    }
    const timers = this.options.timers();
    const machine = msg.method === 'INVITE' ? new InviteServerTransaction(msg, timers, peer.reliable) : new NonInviteServerTransaction(msg, timers, peer.reliable);
    const tx = new ServerTransaction(this, machine, peer, key, this.clock.now());
    tx.run(machine.start());
    this.guard(() => this.options.user.onRequest(tx, msg, peer));
    // The table is for matching what arrives later, so the transaction enters it only if it
    // outlives the TU's handling: most non-INVITE requests are answered at once and are by now
    // in the completed store (or over). Entered and deleted each time, it made V8 rebuild the
    // Map's table for nearly every request, in the old generation (the Map is long-lived).
    if (tx.terminated) return;
    if (this.closed) {
      tx.close();
      return;
    }
    this.servers.set(key, tx);
    if (tx.awaitingFinal) this.armSweeper(true);
  }

  /** §9.2: the INVITE server transaction a CANCEL refers to. */
  findInviteFor(cancel: SipRequest): ServerTransaction | undefined {
    const key = serverKey(cancel);
    return this.servers.get(key.replace(/\u0000CANCEL$/, '\u0000INVITE'));
  }

  /** @internal Sends for a transaction (told when the send fails) or statelessly. */
  transmit(msg: SipRequest | SipResponse, peer: Peer, tx: Runner | undefined): void {
    try {
      const r = this.options.send(msg, peer);
      if (r && typeof (r as Promise<void>).catch === 'function') {
        (r as Promise<void>).catch((err: unknown) => {
          this.options.onError?.(err);
          tx?.sendFailed();
        });
      }
    } catch (err) {
      this.options.onError?.(err);
      tx?.sendFailed();
    }
  }

  /** @internal */
  forget(r: Runner): void {
    if (r instanceof ClientTransaction) {
      if (this.clients.get(r.key) === r) this.clients.delete(r.key);
    } else if (this.servers.get(r.key) === r) this.servers.delete(r.key);
  }

  /** @internal A throwing TU must not break a state machine (STYLE.md). */
  guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.options.onError?.(err);
    }
  }

  close(): void {
    this.closed = true;
    this.clock.cancel(this.sweeper);
    this.completed.clear();
    for (const tx of [...this.clients.values(), ...this.servers.values()]) tx.close();
  }
}

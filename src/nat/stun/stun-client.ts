// The driver around BindingTransaction (STYLE.md: protocol logic without I/O): it sends on a UDP
// socket, runs the timers on an injected Clock and settles one promise per transaction.
//
// Socket ownership: given a socket (the SIP or RTP one), the client only sends on it; the owner
// keeps reading and offers every datagram to handle(), which returns true when it consumed a
// response to one of our transactions. Without one, the client opens, reads and closes its own.
import { createSocket, type Socket } from 'node:dgram';
import { SystemClock, type Clock, type TimerHandle } from '../../util/index.js';
import { BindingTransaction, type BindingAction, type BindingOutcome } from './binding-transaction.js';
import type { StunAddress } from './stun-address.js';
import { STUN_METHOD_BINDING } from './stun-constants.js';
import { StunError } from './stun-error.js';
import { verifyFingerprint } from './stun-integrity.js';
import { decodeStunMessage, getAttribute, isStun, newTransactionId, type DecodedStunMessage } from './stun-message.js';
import type { StunAttribute } from './stun-attributes.js';

/** What the client needs of a socket it does not own; a node:dgram Socket is one. */
export interface StunSocket {
  send(msg: Uint8Array, port: number, address: string, callback: (error: Error | null) => void): void;
}

export interface StunClientOptions {
  /** Share this socket (not owned: never read, bound or closed by the client). */
  readonly socket?: StunSocket;
  /** For the client's own socket: family and local address to bind (default udp4, any address, any port). */
  readonly type?: 'udp4' | 'udp6';
  readonly bindAddress?: string;
  readonly bindPort?: number;
  readonly clock?: Clock;
  /** RFC 8489 §6.2.1 parameters (defaults 500 ms, 7, 16). */
  readonly rtoMs?: number;
  readonly rc?: number;
  readonly rm?: number;
  /** Sent as SOFTWARE in every request when set. */
  readonly software?: string;
}

export interface BindingOptions {
  /** RFC 5780 §7.2 CHANGE-REQUEST flags: ask for the answer from the other IP and/or port. */
  readonly changeIp?: boolean;
  readonly changePort?: boolean;
  /** RFC 5780 §7.5: ask for the answer at this port of ours. */
  readonly responsePort?: number;
  /** RFC 5780 §7.6: PADDING of this many bytes, to probe fragmentation. */
  readonly padding?: number;
}

export interface BindingResult {
  /** Our address as the server saw it: XOR-MAPPED-ADDRESS, or MAPPED-ADDRESS from an old server. */
  readonly mappedAddress: StunAddress;
  readonly responseOrigin: StunAddress | undefined;
  readonly otherAddress: StunAddress | undefined;
  /** Where the response datagram came from. */
  readonly source: { readonly address: string; readonly port: number };
  readonly software: string | undefined;
  readonly rttMs: number | undefined;
  readonly response: DecodedStunMessage;
}

interface Pending {
  readonly tx: BindingTransaction;
  readonly server: { readonly address: string; readonly port: number };
  /** For error messages. */
  readonly label: string;
  timer: TimerHandle | undefined;
  source: { address: string; port: number };
  resolve(r: BindingResult): void;
  reject(e: StunError): void;
}

const idKey = (id: Uint8Array): string => Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');

export class StunClient {
  private readonly clock: Clock;
  private readonly socket: StunSocket;
  private readonly own: Socket | undefined;
  private readonly bound: Promise<void>;
  private readonly pending = new Map<string, Pending>();
  private closed = false;

  constructor(private readonly options: StunClientOptions = {}) {
    this.clock = options.clock ?? new SystemClock();
    if (options.socket) {
      this.socket = options.socket;
      this.own = undefined;
      this.bound = Promise.resolve();
      return;
    }
    const own = createSocket(options.type ?? 'udp4');
    this.own = own;
    this.socket = own;
    own.on('message', (bytes, rinfo) => this.handle(bytes, rinfo));
    this.bound = new Promise<void>((resolve, reject) => {
      own.once('error', reject);
      own.bind(options.bindPort ?? 0, options.bindAddress, () => {
        own.off('error', reject);
        // Errors after bind (ICMP-driven ones on some systems) must not crash the process: the
        // transactions time out instead.
        own.on('error', () => {});
        resolve();
      });
    }).catch((err: unknown) => {
      throw new StunError('send-failed', `cannot bind the STUN client socket: ${String(err)}`, {}, { cause: err });
    });
    this.bound.catch(() => {});
  }

  /** The local address of the client's own socket (undefined for a shared socket). */
  async localAddress(): Promise<StunAddress | undefined> {
    await this.bound;
    if (!this.own) return undefined;
    const a = this.own.address();
    return { family: a.family === 'IPv6' ? 'IPv6' : 'IPv4', address: a.address, port: a.port };
  }

  /** Sends a Binding request to `server` and resolves with what it reported; rejects with StunError. */
  async binding(server: { readonly address: string; readonly port: number }, opts: BindingOptions = {}): Promise<BindingResult> {
    await this.bound;
    if (this.closed) throw new StunError('closed', 'STUN client is closed');
    const attributes: StunAttribute[] = [];
    if (this.options.software !== undefined) attributes.push({ kind: 'software', value: this.options.software });
    if (opts.changeIp !== undefined || opts.changePort !== undefined) {
      attributes.push({ kind: 'change-request', changeIp: opts.changeIp ?? false, changePort: opts.changePort ?? false });
    }
    if (opts.responsePort !== undefined) attributes.push({ kind: 'response-port', port: opts.responsePort });
    if (opts.padding !== undefined) attributes.push({ kind: 'padding', length: opts.padding });
    const tx = new BindingTransaction({
      request: { method: STUN_METHOD_BINDING, class: 'request', transactionId: newTransactionId(), attributes },
      ...(this.options.rtoMs !== undefined ? { rtoMs: this.options.rtoMs } : {}),
      ...(this.options.rc !== undefined ? { rc: this.options.rc } : {}),
      ...(this.options.rm !== undefined ? { rm: this.options.rm } : {}),
    });
    return new Promise<BindingResult>((resolve, reject) => {
      const p: Pending = {
        tx, server, label: `${server.address}:${server.port}`, timer: undefined, source: { address: '', port: 0 }, resolve, reject,
      };
      this.pending.set(idKey(tx.transactionId), p);
      this.run(p, tx.start(this.clock.now()));
    });
  }

  /**
   * Offers a datagram from the socket's owner. True when it was a STUN response to one of this
   * client's transactions (the owner then drops it); false for anything else, STUN or not.
   */
  handle(bytes: Uint8Array, rinfo: { readonly address: string; readonly port: number }): boolean {
    if (!isStun(bytes)) return false;
    let msg: DecodedStunMessage;
    try {
      msg = decodeStunMessage(bytes);
    } catch (err) {
      if (err instanceof StunError) return false;
      throw err;
    }
    const p = this.pending.get(idKey(msg.transactionId));
    if (!p) return false;
    // RFC 8489 §7.3: a wrong FINGERPRINT means the datagram is not STUN after all. Its absence is
    // tolerated: coturn leaves it out of its answers to CHANGE-REQUEST.
    if (getAttribute(msg, 'fingerprint') && !verifyFingerprint(msg)) return false;
    p.source = { address: rinfo.address, port: rinfo.port };
    const actions = p.tx.receive(msg, this.clock.now());
    if (actions.length === 0) return false;
    this.run(p, actions);
    return true;
  }

  /** Fails every pending transaction with 'closed', cancels their timers and closes an owned socket. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of [...this.pending.values()]) this.settle(p, new StunError('closed', `STUN client closed while asking ${p.label}`));
    this.own?.close();
  }

  private run(p: Pending, actions: readonly BindingAction[]): void {
    for (const a of actions) {
      // A send that failed at once has settled the transaction: no timer for it any more.
      if (!this.isPending(p)) return;
      switch (a.kind) {
        case 'send': {
          const failed = (err: unknown): void =>
            this.settle(p, new StunError('send-failed', `sending to ${p.label}: ${String(err)}`, {}, { cause: err }));
          try {
            this.socket.send(a.bytes, p.server.port, p.server.address, (err) => err && failed(err));
          } catch (err) {
            // node:dgram throws at once for a bad port or a closed socket.
            failed(err);
          }
          break;
        }
        case 'wakeAt':
          this.clock.cancel(p.timer);
          p.timer = this.clock.setTimer(a.atMs - this.clock.now(), () => {
            p.timer = undefined;
            this.run(p, p.tx.wake(this.clock.now()));
          });
          break;
        case 'done':
          this.settle(p, this.resultOf(p, a.outcome));
          break;
      }
    }
  }

  private resultOf(p: Pending, o: BindingOutcome): BindingResult | StunError {
    switch (o.kind) {
      case 'success':
        return {
          mappedAddress: o.mappedAddress, responseOrigin: o.responseOrigin, otherAddress: o.otherAddress, source: p.source,
          software: getAttribute(o.response, 'software')?.value, rttMs: o.rttMs, response: o.response,
        };
      case 'error-response':
        return new StunError('error-response', `${p.label} answered ${o.code} ${o.reason}`, {
          stunCode: o.code, unknownAttributes: o.unknownAttributes,
        });
      case 'malformed-response':
        return new StunError('malformed-response', `${p.label}: ${o.problem}`);
      case 'timeout':
        return new StunError('timeout', `no answer from ${p.label} after ${o.sends} requests in ${o.elapsedMs} ms`);
    }
  }

  private isPending(p: Pending): boolean {
    return this.pending.get(idKey(p.tx.transactionId)) === p;
  }

  private settle(p: Pending, r: BindingResult | StunError): void {
    if (!this.isPending(p)) return;
    this.pending.delete(idKey(p.tx.transactionId));
    this.clock.cancel(p.timer);
    p.timer = undefined;
    if (r instanceof StunError) p.reject(r);
    else p.resolve(r);
  }
}

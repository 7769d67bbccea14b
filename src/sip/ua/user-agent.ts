// The SIP UA core (RFC 3261 §8, §9, §13-15): owns the transports and the transaction layer,
// answers what needs no application (OPTIONS, 405/415/420/481/482/483, CANCEL), protects itself
// (per-source rate limit, server transaction cap), and gives the layer above a small API:
// send a request (with Digest retries), send an INVITE (ACKing 2xx), cancel it, and hear
// incoming INVITEs and in-dialog requests.
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Clock } from '../../util/clock.js';
import { DigestChallengeState, type DigestCredentials } from '../auth/index.js';
import { Dialog, dialogKey } from '../dialog/index.js';
import {
  formatUri, getCSeq, getTo, isSipUri, makeResponse, parseNameAddr, type NameAddr, type SipRequest, type SipResponse,
} from '../message/index.js';
import { SourceRateLimiter, TransactionCap } from '../protection/index.js';
import { TransactionLayer, type ClientTransaction, type Peer, type ServerTransaction, type TransactionTimers } from '../transaction/index.js';
import { TransportLayer, type Destination, type TransportName } from '../transport/index.js';
import { MergedRequestDetector, PHONE_CAPABILITIES, checkUasRequest, optionsHeaders } from './uas-checks.js';

export interface UserAgentOptions {
  readonly clock: Clock;
  readonly addresses: readonly string[];
  readonly port: number;
  readonly transports: readonly TransportName[];
  readonly tls?: ConstructorParameters<typeof TransportLayer>[0]['tls'];
  readonly timers: () => TransactionTimers;
  readonly userAgent: string;
  /** The sent-by of our Vias and the address of our Contact; the port manager decides it. */
  readonly advertised: (transport: string) => { host: string; port: number };
  readonly rport?: () => boolean;
  readonly rateLimit?: { ratePerS: number; burst: number };
  readonly maxServerTransactions?: number;
  readonly maxStreamMessageBytes?: number;
  readonly onError?: (err: unknown, context: string) => void;
  readonly onNonSip?: ConstructorParameters<typeof TransportLayer>[0]['onNonSip'];
}

export interface IncomingInvite {
  readonly request: SipRequest;
  readonly transaction: ServerTransaction;
  readonly peer: Peer;
}

/** What the layer above (the RTC session manager) handles. */
export interface UserAgentHandlers {
  onInvite?(invite: IncomingInvite): void;
  /** Requests inside a dialog we know (BYE, re-INVITE, UPDATE, INFO, REFER, NOTIFY, PRACK). */
  onDialogRequest?(dialog: Dialog, request: SipRequest, tx: ServerTransaction): void;
  /** An INVITE was CANCELled before it was answered (we already sent 487). */
  onCancelled?(request: SipRequest): void;
}

export interface RequestOptions {
  readonly credentials?: DigestCredentials;
  readonly onProvisional?: (res: SipResponse) => void;
}

// One randomBytes() call per 4 KiB of identifiers instead of one per tag.
const POOL_BYTES = 4096;
let pool = randomBytes(POOL_BYTES);
let poolAt = 0;

function randomHex(bytes: number): string {
  if (poolAt + bytes > POOL_BYTES) {
    pool = randomBytes(POOL_BYTES);
    poolAt = 0;
  }
  const out = pool.toString('hex', poolAt, poolAt + bytes);
  poolAt += bytes;
  return out;
}

function hasParsableToWithoutTag(req: SipRequest): boolean {
  try {
    return !getTo(req).params.get('tag');
  } catch {
    return false;
  }
}

/**
 * §13.2.2.4: the ACK for a 2xx goes where the dialog says (first Route, else the remote target),
 * not back to the INVITE's first hop. A host name would need RFC 3263: then, and when the
 * route set is empty but the peer is a proxy we reach only one way, the INVITE's hop is used.
 */
function ackHop(ack: SipRequest, peer: Destination): Destination {
  const route = ack.headers.getAll('Route')[0];
  let uri;
  try {
    uri = route ? parseNameAddr(route).uri : ack.uri;
  } catch {
    return peer;
  }
  if (!isSipUri(uri)) return peer;
  const host = uri.host.replace(/^\[|\]$/g, '');
  if (isIP(host) === 0) return peer;
  const transport = (uri.params.get('transport') ?? peer.transport).toUpperCase();
  if (transport !== peer.transport.toUpperCase()) return peer;
  const port = uri.port ?? (uri.scheme === 'sips' || transport === 'TLS' ? 5061 : 5060);
  if (host === peer.address && port === peer.port) return peer;
  return { transport: peer.transport, address: host, port, reliable: peer.reliable };
}

export class SipRequestError extends Error {
  constructor(readonly reason: 'timeout' | 'transport-error' | 'auth-failed', message: string) {
    super(message);
    this.name = 'SipRequestError';
  }
}

export class UserAgent {
  readonly transport: TransportLayer;
  readonly transactions: TransactionLayer;
  private readonly dialogs = new Map<string, Dialog>();
  private readonly merged = new MergedRequestDetector();
  private readonly limiter: SourceRateLimiter;
  /** 2xx responses to INVITEs waiting for their ACK, by Call-ID + CSeq (§13.3.1.4). */
  private readonly awaitingAck = new Map<string, { stop: () => void }>();
  private readonly cap: TransactionCap;
  private handlers: UserAgentHandlers = {};
  /** Made once: the same for every OPTIONS. */
  private readonly optionsAnswer = optionsHeaders(PHONE_CAPABILITIES);
  /** One function for every server transaction (not a closure each). */
  private readonly releaseSlot = (): void => this.cap.release();

  constructor(private readonly options: UserAgentOptions) {
    this.limiter = new SourceRateLimiter(options.rateLimit ?? { ratePerS: 200, burst: 400 });
    this.cap = new TransactionCap(options.maxServerTransactions ?? 2000);
    this.transport = new TransportLayer({
      clock: options.clock,
      addresses: options.addresses,
      port: options.port,
      transports: options.transports,
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.maxStreamMessageBytes !== undefined ? { maxStreamMessageBytes: options.maxStreamMessageBytes } : {}),
      ...(options.onNonSip ? { onNonSip: options.onNonSip } : {}),
      onMessage: ({ message, source }) => this.transactions.receive(message, source),
      admit: (source) => this.limiter.admit(source.address, options.clock.now()),
      onError: (err, ctx) => options.onError?.(err, ctx),
    });
    this.transactions = new TransactionLayer({
      clock: options.clock,
      timers: options.timers,
      send: (msg, peer) => this.transport.send(msg, peer as Destination),
      sentBy: (t) => options.advertised(t),
      ...(options.rport ? { rport: options.rport } : {}),
      onError: (err) => options.onError?.(err, 'transaction'),
      freezeResponse: (res, peer) => this.transport.freezeResponse(res, peer as Destination),
      sendBytes: (bytes, dest) => this.transport.sendBytes(bytes, dest),
      user: {
        onRequest: (tx, req, peer) => this.onRequest(tx, req, peer),
        onAck: (req) => this.onAck(req),
        onStrayResponse: (res, peer) => this.onStrayResponse(res, peer),
      },
    });
  }

  setHandlers(h: UserAgentHandlers): void {
    this.handlers = h;
  }

  configureProtection(ratePerS: number, burst: number, maxServerTransactions: number): void {
    this.limiter.configure(ratePerS, burst);
    this.cap.configure(maxServerTransactions);
  }

  async start(): Promise<void> {
    await this.transport.start();
  }

  get port(): number {
    return this.transport.port;
  }

  /** A Contact for us on a transport, from the advertised address (the port manager's answer). */
  contact(user: string, transport = 'UDP'): NameAddr {
    const a = this.options.advertised(transport);
    const host = a.host.includes(':') && !a.host.startsWith('[') ? `[${a.host}]` : a.host;
    return parseNameAddr(`<sip:${user}@${host}:${a.port}${transport.toUpperCase() === 'UDP' ? '' : `;transport=${transport.toLowerCase()}`}>`);
  }

  /** 48 random bits (RFC 3261 §19.3 asks for at least 32), from a pooled random buffer. */
  newTag(): string {
    return randomHex(6);
  }

  newCallId(): string {
    return `${randomHex(12)}@deskphone`;
  }

  private respond(tx: ServerTransaction, req: SipRequest, status: number, reason?: string, headers: ReadonlyArray<readonly [string, string]> = [], toTag?: string): SipResponse {
    const res = makeResponse(req, status, reason);
    // A To we cannot parse (the request is being rejected for it) is echoed without a tag.
    if (status > 100 && hasParsableToWithoutTag(req)) res.headers.set('To', `${req.headers.get('To') ?? ''};tag=${toTag ?? this.newTag()}`);
    for (const [n, v] of headers) res.headers.append(n, v);
    res.headers.set('Server', this.options.userAgent);
    tx.respond(res);
    return res;
  }

  /** Sends a response through the transaction (for the layer above). */
  answer(tx: ServerTransaction, res: SipResponse): void {
    if (!res.headers.has('Server') && !res.headers.has('User-Agent')) res.headers.set('Server', this.options.userAgent);
    tx.respond(res);
  }

  /**
   * Answers an INVITE with a 2xx and retransmits it (T1 doubling to T2) until the ACK arrives
   * or 64*T1 passes (RFC 3261 §13.3.1.4; RFC 6026 keeps the transaction to carry them).
   */
  accept(tx: ServerTransaction, res: SipResponse, onNoAck?: () => void): void {
    this.answer(tx, res);
    const key = `${res.headers.get('Call-ID')}\u0000${getCSeq(res).seq}`;
    const { t1Ms, t2Ms } = this.options.timers();
    const started = this.options.clock.now();
    let interval = t1Ms;
    let timer = this.options.clock.setTimer(interval, tick);
    const self = this;
    function tick(): void {
      if (self.options.clock.now() - started >= 64 * t1Ms) {
        self.awaitingAck.delete(key);
        onNoAck?.();
        return;
      }
      tx.respond(res);
      interval = Math.min(2 * interval, t2Ms);
      timer = self.options.clock.setTimer(interval, tick);
    }
    this.awaitingAck.set(key, { stop: () => this.options.clock.cancel(timer) });
  }

  private onAck(req: SipRequest): void {
    const key = `${req.headers.get('Call-ID')}\u0000${getCSeq(req).seq}`;
    const pending = this.awaitingAck.get(key);
    if (pending) {
      pending.stop();
      this.awaitingAck.delete(key);
    }
  }

  private onRequest(tx: ServerTransaction, req: SipRequest, peer: Peer): void {
    const slot = this.cap.tryAcquire();
    if (!slot.ok) {
      this.respond(tx, req, 503, undefined, [['Retry-After', String(slot.retryAfterS)]]);
      return;
    }
    // The slot is held while the transaction lives.
    tx.whenTerminated(this.releaseSlot);
    const rejection = checkUasRequest(req, PHONE_CAPABILITIES, this.merged, this.options.clock.now());
    if (rejection) {
      this.respond(tx, req, rejection.status, rejection.reason, rejection.headers);
      return;
    }
    const id = Dialog.idOfRequest(req);
    if (id) {
      const dialog = this.dialogs.get(dialogKey(id));
      if (!dialog) {
        this.respond(tx, req, 481);
        return;
      }
      const bad = dialog.receiveRequest(req);
      if (bad) {
        this.respond(tx, req, bad.status, bad.reason, bad.status === 500 ? [['Retry-After', String(1 + Math.floor(Math.random() * 10))]] : []);
        return;
      }
      if (this.handlers.onDialogRequest) this.handlers.onDialogRequest(dialog, req, tx);
      else this.respond(tx, req, req.method === 'BYE' ? 200 : 501);
      if (req.method === 'BYE') {
        dialog.transition('terminated');
        this.dialogs.delete(dialogKey(dialog.id));
      }
      return;
    }
    switch (req.method) {
      case 'OPTIONS':
        this.respond(tx, req, 200, undefined, this.optionsAnswer);
        return;
      case 'CANCEL': {
        // §9.2: 481 if no transaction matches; otherwise 200, and 487 for the INVITE only if it
        // has not been answered yet (a CANCEL that races with our final response has no effect).
        const invite = this.transactions.findInviteFor(req);
        if (!invite) {
          this.respond(tx, req, 481);
          return;
        }
        const sent = invite.lastResponse;
        const tag = sent && sent.status > 100 ? getTo(sent).params.get('tag') ?? undefined : undefined;
        this.respond(tx, req, 200, undefined, [], tag);
        if (invite.state === 'proceeding') {
          this.respond(invite, invite.request, 487, undefined, [], tag);
          this.handlers.onCancelled?.(invite.request);
        }
        return;
      }
      case 'INVITE':
        if (this.handlers.onInvite) this.handlers.onInvite({ request: req, transaction: tx, peer });
        else this.respond(tx, req, 480, 'Temporarily Unavailable');
        return;
      default:
        this.respond(tx, req, 481);
    }
  }

  /** Remembers a dialog so in-dialog requests find it. */
  addDialog(d: Dialog): void {
    this.dialogs.set(dialogKey(d.id), d);
  }

  removeDialog(d: Dialog): void {
    this.dialogs.delete(dialogKey(d.id));
  }

  get dialogCount(): number {
    return this.dialogs.size;
  }

  /** 2xx retransmissions to an INVITE whose transaction is gone: ACK again (§13.2.2.4). */
  private onStrayResponse(res: SipResponse, peer: Peer): void {
    if (res.status < 200 || res.status >= 300 || getCSeq(res).method !== 'INVITE') return;
    const id = Dialog.idOfResponse(res);
    const dialog = id ? this.dialogs.get(dialogKey(id)) : undefined;
    if (dialog) this.transactions.sendStateless(dialog.createRequest('ACK', { cseq: getCSeq(res).seq }), peer);
  }

  /**
   * Sends a non-INVITE request and resolves with its final response. A 401/407 is answered with
   * Digest credentials (bounded retries), each retry a new transaction with CSeq + 1 (§22.2).
   */
  request(req: SipRequest, peer: Destination, options: RequestOptions = {}, auth?: DigestChallengeState): Promise<SipResponse> {
    if (!req.headers.has('User-Agent')) req.headers.set('User-Agent', this.options.userAgent);
    const digest = auth ?? (options.credentials ? new DigestChallengeState(options.credentials) : undefined);
    return new Promise((resolve, reject) => {
      const attempt = (r: SipRequest): void => {
        this.transactions.request(r, peer, {
          onResponse: (res) => {
            if (res.status < 200) {
              options.onProvisional?.(res);
              return;
            }
            if ((res.status === 401 || res.status === 407) && digest) {
              const d = digest.onChallenge(res.status, res.headers.getAll(res.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate'), { method: r.method, uri: formatUri(r.uri), body: r.body });
              if (d.kind === 'retry') {
                attempt(this.retryWith(r, d.header, d.value));
                return;
              }
              resolve(res);
              return;
            }
            if (res.status < 300) digest?.onSuccess();
            resolve(res);
          },
          onTimeout: (why) => reject(new SipRequestError(why, `${r.method} ${formatUri(r.uri)}: ${why === 'timeout' ? 'no final response (Timer F/B)' : 'transport error'}`)),
        });
      };
      attempt(req);
    });
  }

  /** A copy of a request for a new transaction: new CSeq number, no Via, with credentials. */
  retryWith(r: SipRequest, header: string, value: string): SipRequest {
    const next = { ...r, headers: r.headers.clone() };
    next.headers.delete('Via');
    const cseq = getCSeq(r);
    next.headers.set('CSeq', `${cseq.seq + 1} ${cseq.method}`);
    next.headers.delete('Authorization');
    next.headers.delete('Proxy-Authorization');
    next.headers.set(header, value);
    return next;
  }

  /**
   * Sends an INVITE: provisional responses come through `onProvisional`, a 2xx creates the
   * dialog and is ACKed here (§13.2.2.4), a final failure resolves too. The client transaction
   * is returned at once so the caller can CANCEL.
   */
  invite(req: SipRequest, peer: Destination, options: RequestOptions & { onTransaction?: (tx: ClientTransaction) => void } = {}): Promise<{ response: SipResponse; dialog?: Dialog }> {
    if (!req.headers.has('User-Agent')) req.headers.set('User-Agent', this.options.userAgent);
    const digest = options.credentials ? new DigestChallengeState(options.credentials) : undefined;
    const localContact = req.headers.get('Contact') ? parseNameAddr(req.headers.get('Contact') as string) : this.contact('phone', peer.transport);
    let settled = false;
    return new Promise((resolve, reject) => {
      const attempt = (r: SipRequest): void => {
        const tx = this.transactions.request(r, peer, {
          onResponse: (res) => {
            if (res.status < 200) {
              options.onProvisional?.(res);
              return;
            }
            if (res.status < 300) {
              // Each 2xx (also retransmissions in Accepted) is ACKed by the UA core, not the transaction.
              // An early dialog the layer above made from a 1xx (for PRACK) is confirmed, not replaced,
              // so its CSeq numbering goes on.
              const id = Dialog.idOfResponse(res);
              let dialog = id ? this.dialogs.get(dialogKey(id)) : undefined;
              if (!dialog) {
                dialog = Dialog.asUac(r, res, localContact);
                this.addDialog(dialog);
              } else if (dialog.state === 'early') dialog.receiveResponse(r, res);
              const ack = dialog.createRequest('ACK', { cseq: getCSeq(r).seq });
              this.transactions.sendStateless(ack, ackHop(ack, peer));
              if (!settled) {
                settled = true;
                resolve({ response: res, dialog });
              }
              return;
            }
            if ((res.status === 401 || res.status === 407) && digest) {
              const d = digest.onChallenge(res.status, res.headers.getAll(res.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate'), { method: 'INVITE', uri: formatUri(r.uri), body: r.body });
              if (d.kind === 'retry') {
                attempt(this.retryWith(r, d.header, d.value));
                return;
              }
            }
            if (!settled) {
              settled = true;
              resolve({ response: res });
            }
          },
          onTimeout: (why) => {
            if (!settled) {
              settled = true;
              reject(new SipRequestError(why, `INVITE ${formatUri(r.uri)}: ${why}`));
            }
          },
        });
        options.onTransaction?.(tx);
      };
      attempt(req);
    });
  }

  /** §9.1: CANCEL a pending INVITE (same Request-URI, Call-ID, From, To, CSeq number and top Via). */
  cancel(inviteTx: ClientTransaction): void {
    const inv = inviteTx.request;
    const h = inv.headers;
    const cancel: SipRequest = { kind: 'request', method: 'CANCEL', uri: inv.uri, headers: h.clone(), body: new Uint8Array(0) };
    for (const name of ['Contact', 'Content-Type', 'Authorization', 'Proxy-Authorization', 'Supported', 'Allow', 'Require']) cancel.headers.delete(name);
    const vias = h.getAll('Via');
    cancel.headers.delete('Via');
    if (vias[0]) cancel.headers.append('Via', vias[0]);
    cancel.headers.set('CSeq', `${getCSeq(inv).seq} CANCEL`);
    cancel.headers.set('Content-Length', '0');
    this.transactions.request(cancel, inviteTx.peer, { onResponse: () => {}, onTimeout: () => {} });
  }

  async close(): Promise<void> {
    for (const p of this.awaitingAck.values()) p.stop();
    this.awaitingAck.clear();
    this.transactions.close();
    await this.transport.close();
  }
}

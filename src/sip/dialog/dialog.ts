// RFC 3261 §12: a dialog, the peer-to-peer relationship that INVITE (or SUBSCRIBE/REFER) creates.
// Holds the dialog state (ids, CSeq numbers, remote target, route set) and builds requests
// inside it (§12.2.1.1); checks requests received inside it (§12.2.2).
import {
  SipHeaders, formatNameAddr, getCSeq, getCallId, getContacts, getFrom, getTo, parseNameAddr,
  isSipUri, type NameAddr, type SipRequest, type SipResponse, type Uri,
} from '../message/index.js';
import { DialogError } from './dialog-errors.js';

export type DialogState = 'early' | 'confirmed' | 'terminated';

export interface DialogId {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
}

export function dialogKey(id: DialogId): string {
  return `${id.callId}\u0000${id.localTag}\u0000${id.remoteTag}`;
}

/** Methods that refresh the remote target (RFC 3261 §12.2, RFC 3311 §5, RFC 3515). */
const TARGET_REFRESH = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']);

export interface DialogInit {
  readonly id: DialogId;
  readonly state: Exclude<DialogState, 'terminated'>;
  readonly localSeq: number;
  readonly remoteSeq: number | undefined;
  readonly localUri: NameAddr;
  readonly remoteUri: NameAddr;
  readonly remoteTarget: Uri;
  /** Route set in the order requests must carry it. */
  readonly routeSet: readonly NameAddr[];
  readonly localContact: NameAddr;
  readonly secure: boolean;
}

export interface DialogRequestOptions {
  readonly body?: Uint8Array;
  readonly contentType?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  /** ACK and CANCEL reuse the CSeq number of the INVITE (§13.2.2.4, §9.1). */
  readonly cseq?: number;
}

export class Dialog {
  private stateNow: DialogState;
  readonly id: DialogId;
  private localSeqNo: number;
  private remoteSeqNo: number | undefined;
  readonly localUri: NameAddr;
  readonly remoteUri: NameAddr;
  private target: Uri;
  private readonly routes: readonly NameAddr[];
  readonly localContact: NameAddr;
  readonly secure: boolean;

  constructor(init: DialogInit) {
    this.id = init.id;
    this.stateNow = init.state;
    this.localSeqNo = init.localSeq;
    this.remoteSeqNo = init.remoteSeq;
    this.localUri = init.localUri;
    this.remoteUri = init.remoteUri;
    this.target = init.remoteTarget;
    this.routes = init.routeSet;
    this.localContact = init.localContact;
    this.secure = init.secure;
  }

  /**
   * §12.1.2: the UAC side, from a 1xx (with a To tag) or 2xx response to its request.
   * The route set is the Record-Route of the response in reverse order.
   */
  static asUac(request: SipRequest, response: SipResponse, localContact: NameAddr): Dialog {
    const to = getTo(response);
    const remoteTag = to.params.get('tag');
    if (!remoteTag) throw new DialogError('bad-request', 'a response without a To tag creates no dialog');
    const contacts = getContacts(response).filter((c): c is NameAddr => c !== '*');
    const target = contacts[0]?.uri;
    if (!target) throw new DialogError('bad-request', `a ${response.status} that creates a dialog needs a Contact`);
    const from = getFrom(request);
    return new Dialog({
      id: { callId: getCallId(request), localTag: from.params.get('tag') ?? '', remoteTag },
      state: response.status < 200 ? 'early' : 'confirmed',
      localSeq: getCSeq(request).seq,
      remoteSeq: undefined,
      localUri: from,
      remoteUri: to,
      remoteTarget: target,
      routeSet: recordRoutes(response).reverse(),
      localContact,
      secure: request.uri.scheme === 'sips',
    });
  }

  /** §12.1.1: the UAS side, when it sends a 1xx/2xx with `localTag` in the To header. */
  static asUas(request: SipRequest, localTag: string, localContact: NameAddr, early: boolean): Dialog {
    const contacts = getContacts(request).filter((c): c is NameAddr => c !== '*');
    const target = contacts[0]?.uri;
    if (!target) throw new DialogError('bad-request', `${request.method} without a Contact creates no dialog`);
    const from = getFrom(request);
    const to = getTo(request);
    const localUri: NameAddr = { ...to, params: new Map([...to.params, ['tag', localTag]]) };
    return new Dialog({
      id: { callId: getCallId(request), localTag, remoteTag: from.params.get('tag') ?? '' },
      state: early ? 'early' : 'confirmed',
      localSeq: Math.floor(Math.random() * 0x7fff) + 1,
      remoteSeq: getCSeq(request).seq,
      localUri,
      remoteUri: from,
      remoteTarget: target,
      routeSet: recordRoutes(request),
      localContact,
      secure: request.uri.scheme === 'sips',
    });
  }

  get state(): DialogState {
    return this.stateNow;
  }

  get localSeq(): number {
    return this.localSeqNo;
  }

  get remoteSeq(): number | undefined {
    return this.remoteSeqNo;
  }

  get remoteTarget(): Uri {
    return this.target;
  }

  get routeSet(): readonly NameAddr[] {
    return this.routes;
  }

  /** early → confirmed on a 2xx; anything → terminated. */
  transition(to: DialogState): void {
    const from = this.stateNow;
    const legal = (from === 'early' && (to === 'confirmed' || to === 'terminated')) || (from === 'confirmed' && to === 'terminated');
    if (!legal && from !== to) throw new DialogError('illegal-transition', `dialog cannot go from ${from} to ${to}`);
    this.stateNow = to;
  }

  /** §12.2.1.1: a request inside the dialog. Via is added by the transaction layer. */
  createRequest(method: string, options: DialogRequestOptions = {}): SipRequest {
    if (this.stateNow === 'terminated') throw new DialogError('illegal-transition', `no ${method} in a terminated dialog`);
    let seq: number;
    if (options.cseq !== undefined) seq = options.cseq;
    else seq = ++this.localSeqNo;
    const headers = new SipHeaders();
    let requestUri = this.target;
    const routes = [...this.routes];
    const first = routes[0];
    // §12.2.1.1: a route set whose first URI lacks ;lr means a strict router.
    if (first && isSipUri(first.uri) && !first.uri.params.has('lr')) {
      requestUri = first.uri;
      routes.shift();
      routes.push({ uri: this.target, params: new Map() });
    }
    for (const r of routes) headers.append('Route', formatNameAddr(r));
    headers.set('Max-Forwards', '70');
    headers.set('From', formatNameAddr(this.localUri));
    headers.set('To', formatNameAddr(this.remoteUri));
    headers.set('Call-ID', this.id.callId);
    headers.set('CSeq', `${seq} ${method}`);
    if (method !== 'ACK' && method !== 'CANCEL' && method !== 'BYE') headers.set('Contact', formatNameAddr(this.localContact));
    for (const [name, value] of options.headers ?? []) headers.append(name, value);
    const body = options.body ?? new Uint8Array(0);
    if (body.length > 0 && options.contentType) headers.set('Content-Type', options.contentType);
    headers.set('Content-Length', String(body.length));
    return { kind: 'request', method, uri: requestUri, headers, body };
  }

  /**
   * §12.2.2: checks a request received inside the dialog and updates the remote CSeq and target.
   * Returns the status to reject it with, or undefined when it may be processed.
   */
  receiveRequest(request: SipRequest): { status: number; reason: string } | undefined {
    if (this.stateNow === 'terminated') return { status: 481, reason: 'Call/Transaction Does Not Exist' };
    const cseq = getCSeq(request);
    if (request.method !== 'ACK' && request.method !== 'CANCEL') {
      // Retransmissions never get here (the transaction layer absorbs them), so an equal
      // number is as out of order as a lower one.
      if (this.remoteSeqNo !== undefined && cseq.seq <= this.remoteSeqNo) return { status: 500, reason: 'Server Internal Error (CSeq out of order)' };
      this.remoteSeqNo = cseq.seq;
    }
    if (TARGET_REFRESH.has(request.method)) this.refreshTarget(request);
    return undefined;
  }

  /** A 2xx to a target refresh request (re-INVITE, UPDATE) carries the new remote target. */
  receiveResponse(request: SipRequest, response: SipResponse): void {
    if (response.status >= 200 && response.status < 300 && this.stateNow === 'early' && request.method === 'INVITE') this.transition('confirmed');
    if (response.status >= 200 && response.status < 300 && TARGET_REFRESH.has(request.method)) this.refreshTarget(response);
  }

  private refreshTarget(msg: SipRequest | SipResponse): void {
    const c = getContacts(msg).find((x): x is NameAddr => x !== '*');
    if (c) this.target = c.uri;
  }

  /** Whether a message belongs to this dialog (§12.2.2: Call-ID, local tag = To tag, remote tag = From tag). */
  static idOfRequest(request: SipRequest): DialogId | undefined {
    const localTag = getTo(request).params.get('tag');
    if (!localTag) return undefined;
    return { callId: getCallId(request), localTag, remoteTag: getFrom(request).params.get('tag') ?? '' };
  }

  static idOfResponse(response: SipResponse): DialogId | undefined {
    const remoteTag = getTo(response).params.get('tag');
    if (!remoteTag) return undefined;
    return { callId: getCallId(response), localTag: getFrom(response).params.get('tag') ?? '', remoteTag };
  }
}

function recordRoutes(msg: SipRequest | SipResponse): NameAddr[] {
  return msg.headers.getAll('Record-Route').map((v) => parseNameAddr(v));
}

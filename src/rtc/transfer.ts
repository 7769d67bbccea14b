// Blind transfer with REFER (RFC 3515), both ways. As transferor we REFER the peer to a target,
// hear its progress in NOTIFYs carrying message/sipfrag, and hang up once the target answered.
// As transferee we accept a REFER with 202, call the Refer-To target, and report how that call
// goes in NOTIFYs until it is answered or fails (RFC 3515 §2.4.4-2.4.5, RFC 5589 §6).
import type { Session } from './session.js';
import { isSipUri, makeResponse, parseNameAddr, type SipRequest, type SipUri } from '../sip/message/index.js';
import type { ServerTransaction } from '../sip/transaction/index.js';

export interface TransferDeps {
  /** Starts the call to the Refer-To target (the client's call()). */
  readonly call: (target: SipUri, from: Session) => Session;
  readonly onError: (err: unknown, context: string) => void;
  readonly emitFailure: (session: Session, status: number, message: string) => void;
}

const SIPFRAG = 'message/sipfrag;version=2.0';

/** The status code of a sipfrag body such as "SIP/2.0 200 OK". */
export function sipfragStatus(body: Uint8Array): number | undefined {
  const m = /^SIP\/2\.0 ([1-6]\d\d)\b/.exec(Buffer.from(body).toString('latin1').slice(0, 200));
  return m ? Number(m[1]) : undefined;
}

/** Lets a session take REFERs and the NOTIFYs about its own REFER. */
export function attachTransfer(session: Session, deps: TransferDeps): void {
  session.onTransferRequest = (req, tx) => (req.method === 'REFER' ? onRefer(session, req, tx, deps) : onNotify(session, req, tx, deps));
}

/** Transferor: sends REFER; the NOTIFYs that follow decide the rest. */
export async function transfer(session: Session, target: SipUri, referredBy: string): Promise<void> {
  const res = await session.request('REFER', [['Refer-To', `<${formatTarget(target)}>`], ['Referred-By', `<${referredBy}>`]]);
  if (res.status >= 300) throw new Error(`REFER refused: ${res.status} ${res.reason}`);
}

function formatTarget(uri: SipUri): string {
  const user = uri.user ? `${encodeURIComponent(uri.user).replace(/%2B/g, '+')}@` : '';
  return `${uri.scheme}:${user}${uri.host}${uri.port !== undefined ? `:${uri.port}` : ''}`;
}

function onNotify(session: Session, req: SipRequest, tx: ServerTransaction, deps: TransferDeps): void {
  const event = (req.headers.get('Event') ?? '').split(';')[0]?.trim().toLowerCase();
  if (event !== 'refer') {
    reply(req, tx, 489); // RFC 6665 §8.3.1: Bad Event
    return;
  }
  reply(req, tx, 200);
  const status = sipfragStatus(req.body);
  if (status === undefined || status < 200) return;
  if (status < 300) void session.bye('transferred');
  else deps.emitFailure(session, status, `transfer target answered ${status}`);
}

function onRefer(session: Session, req: SipRequest, tx: ServerTransaction, deps: TransferDeps): void {
  const referTo = req.headers.get('Refer-To');
  let target: SipUri | undefined;
  try {
    const uri = referTo ? parseNameAddr(referTo.trim().startsWith('<') || referTo.includes('"') ? referTo : `<${referTo}>`).uri : undefined;
    if (uri && isSipUri(uri)) target = uri;
  } catch {
    target = undefined;
  }
  if (!target) {
    reply(req, tx, 400, 'Bad Refer-To');
    return;
  }
  // RFC 3515 §2.4.4: accepted; the implicit subscription reports the outcome.
  reply(req, tx, 202);
  const notify = (status: number, reason: string, final: boolean): void => {
    if (session.state === 'ended') return;
    const body = new Uint8Array(Buffer.from(`SIP/2.0 ${status} ${reason}\r\n`, 'latin1'));
    void session
      .request('NOTIFY', [['Event', 'refer'], ['Subscription-State', final ? 'terminated;reason=noresource' : 'active;expires=60']], { type: SIPFRAG, bytes: body })
      .catch((err: unknown) => deps.onError(err, 'NOTIFY (refer)'));
  };
  notify(100, 'Trying', false);
  const next = deps.call(target, session);
  next.transferHook = (event, status) => {
    next.transferHook = undefined;
    if (event === 'connected') notify(200, 'OK', true);
    else notify(status ?? 503, status ? 'Failed' : 'Service Unavailable', true);
  };
}

function reply(req: SipRequest, tx: ServerTransaction, status: number, reason?: string): void {
  tx.respond(makeResponse(req, status, reason));
}

// A session: one call, from INVITE to BYE, as the RTC API's state machine
// (calling → early → connected ⇄ held → ending → ended for outgoing; incoming → connected ...).
// RFC 3261 §13-15 (INVITE, CANCEL, BYE), RFC 3264 offer/answer through SessionMedia,
// RFC 3262 reliable provisional responses both ways (early media with 183 + PRACK),
// RFC 3311 UPDATE, RFC 6337 hold, RFC 4028 session timers, RFC 3515 REFER (transfer.ts).
import type { Profile } from './profile.js';
import { endReasonFor, type EndReason, type RtcEvents, type SessionDirection, type SessionState } from './rtc-events.js';
import { MIN_SE_S, SessionTimer, parseSessionExpires, type SessionTimerAction } from './session-timer.js';
import { SessionMedia, type MediaDeps } from './session-media.js';
import { firstHop, nextHop } from './session-routing.js';
import { EarlyUdp, earlyUdpTarget } from './early-udp.js';
import { Dialog, PrackUac, ReliableProvisionalUas, parseRAck, type ReliableProvisionalAction } from '../sip/dialog/index.js';
import type { ServerLocator } from '../sip/dns/index.js';
import {
  SipHeaders, formatNameAddr, formatUri, getCSeq, getFrom, getTo, isSipUri, makeResponse,
  type NameAddr, type SipRequest, type SipResponse, type SipUri,
} from '../sip/message/index.js';
import type { ClientTransaction, ServerTransaction } from '../sip/transaction/index.js';
import type { Destination } from '../sip/transport/index.js';
import { SipRequestError, type IncomingInvite, type UserAgent } from '../sip/ua/index.js';
import type { Clock, TimerHandle } from '../util/index.js';

export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, INFO, REFER, NOTIFY';
const SUPPORTED = '100rel, timer, replaces';

export interface SessionDeps {
  readonly ua: UserAgent;
  readonly clock: Clock;
  readonly locator: ServerLocator;
  readonly media: MediaDeps;
  readonly emit: <K extends keyof RtcEvents>(event: K, payload: RtcEvents[K]) => void;
  /** Our Contact for a transport (from the port manager's SIP mapping). */
  readonly contact: (transport: string, user: string) => NameAddr;
  /** RFC 4028 interval we ask for; 0 disables session timers. */
  readonly sessionExpiresS: number;
  readonly t1Ms: () => number;
  readonly onEnded: (s: Session) => void;
  readonly onError: (err: unknown, context: string) => void;
  /** rtc.enableEarlyUdpPackets: open the NAT towards the far end's media as soon as it is known. */
  readonly earlyUdp?: boolean;
  /** The final response to our INVITE and where it went (SIP ALG detection). */
  readonly onInviteResponse?: (res: SipResponse, destination: Destination) => void;
}

export class SessionError extends Error {
  constructor(readonly code: 'illegal-state' | 'no-dialog', readonly state: SessionState, message: string) {
    super(message);
    this.name = 'SessionError';
  }
}

let nextId = 1;

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const hasToken = (v: string | undefined, token: string) => (v ?? '').split(',').some((t) => t.trim().toLowerCase() === token);
const isSdp = (m: SipRequest | SipResponse) => m.body.length > 0 && (m.headers.get('Content-Type') ?? '').toLowerCase().startsWith('application/sdp');

export class Session {
  readonly id = `c${nextId++}`;
  private stateNow: SessionState;
  media: SessionMedia | undefined;
  dialog: Dialog | undefined;
  /** Outgoing: the INVITE transaction (latest attempt, for CANCEL). */
  private inviteTx: ClientTransaction | undefined;
  private gotProvisional = false;
  private cancelRequested = false;
  private readonly pracks = new Map<string, PrackUac>();
  /** Incoming: the INVITE and its transaction. */
  private invite: IncomingInvite | undefined;
  private localTag: string | undefined;
  private reliable: ReliableProvisionalUas | undefined;
  private reliableTimer: TimerHandle | undefined;
  private reliableResponse: SipResponse | undefined;
  private answerWaitsForPrack = false;
  /** Our answer to the INVITE's offer, sent unchanged in 183 and 200. */
  private answerText: string | undefined;
  private offerInFlight = false;
  private timer: SessionTimer | undefined;
  private timerHandle: TimerHandle | undefined;
  private endedReason: EndReason | undefined;
  private earlyUdp: EarlyUdp | undefined;
  /** Set by transfer.ts while a REFER we sent or received is in progress. */
  transferHook: ((event: 'connected' | 'ended', status?: number) => void) | undefined;

  private constructor(
    private readonly deps: SessionDeps,
    readonly direction: SessionDirection,
    readonly peer: string,
    readonly profile: Profile | undefined,
    readonly transport: string,
  ) {
    this.stateNow = direction === 'out' ? 'calling' : 'incoming';
  }

  get state(): SessionState {
    return this.stateNow;
  }

  get endReason(): EndReason | undefined {
    return this.endedReason;
  }

  get isActive(): boolean {
    return this.stateNow !== 'ended' && this.stateNow !== 'ending';
  }

  // ---- outgoing -----------------------------------------------------------------------------

  /** Starts an outgoing call to `target` through the profile's proxy, or directly without one. */
  static outgoing(deps: SessionDeps, target: SipUri, profile: Profile | undefined, track: (s: Session) => void): Session {
    const transport = profile?.transportName ?? ((target.params.get('transport') ?? 'udp').toUpperCase());
    const s = new Session(deps, 'out', formatUri(target), profile, transport);
    track(s);
    deps.emit('sessionStateChanged', { session: s.id, state: 'calling', previous: 'calling', direction: 'out', peer: s.peer });
    void s.runOutgoing(target).catch((err: unknown) => s.fail(err, 'outgoing call'));
    return s;
  }

  private async runOutgoing(target: SipUri): Promise<void> {
    this.media = await SessionMedia.open(this.deps.media);
    this.forwardMediaEvents(this.media);
    if (this.stateNow === 'ended') return this.media.close();
    const dest = await this.firstHop(target);
    const user = this.profile?.config.user ?? 'phone';
    const contact = this.deps.contact(this.transport, user);
    const from = this.profile ? formatUri(this.profile.aor) : `sip:${user}@${isSipUri(contact.uri) ? contact.uri.host : 'localhost'}`;
    const display = this.profile?.config.displayName ? `"${this.profile.config.displayName.replace(/["\\]/g, '')}" ` : '';
    const h = new SipHeaders();
    h.append('Max-Forwards', '70');
    h.append('From', `${display}<${from}>;tag=${this.deps.ua.newTag()}`);
    h.append('To', `<${formatUri(target)}>`);
    h.append('Call-ID', this.deps.ua.newCallId());
    h.append('CSeq', '1 INVITE');
    h.append('Contact', formatNameAddr(contact));
    h.append('Allow', ALLOW);
    h.append('Supported', SUPPORTED);
    if (this.deps.sessionExpiresS > 0) h.append('Session-Expires', String(this.deps.sessionExpiresS));
    h.append('Content-Type', 'application/sdp');
    const body = bytes(this.media.createOffer());
    h.append('Content-Length', String(body.length));
    const req: SipRequest = { kind: 'request', method: 'INVITE', uri: target, headers: h, body };
    const creds = this.profile ? { username: this.profile.config.authUser || this.profile.config.user, password: this.profile.config.password ?? '' } : undefined;
    let result: Awaited<ReturnType<UserAgent['invite']>>;
    try {
      result = await this.deps.ua.invite(req, dest, {
        ...(creds ? { credentials: creds } : {}),
        onTransaction: (tx) => (this.inviteTx = tx),
        onProvisional: (res) => this.onProvisional(res, dest),
      });
    } catch (err) {
      // RFC 3261 §8.1.3.1: a Timer B timeout is handled as a 408 (nobody answered), not as a fault.
      if (err instanceof SipRequestError && err.reason === 'timeout') return this.end(this.cancelRequested ? 'hangup' : endReasonFor(408), 408, 'Request Timeout');
      throw err;
    }
    const res = result.response;
    this.deps.onInviteResponse?.(res, dest);
    if (res.status >= 300) {
      const reason: EndReason = this.cancelRequested && res.status === 487 ? 'hangup' : endReasonFor(res.status);
      return this.end(reason, res.status, res.reason);
    }
    this.dialog = result.dialog;
    if (this.cancelRequested || !this.isActive) {
      // §15: a 2xx that crossed our CANCEL: the call exists, so end it with BYE.
      return this.bye('hangup');
    }
    try {
      if (isSdp(res) && this.media.awaitingAnswer) this.media.acceptAnswer(res.body, true);
    } catch (err) {
      this.deps.onError(err, 'SDP answer in 2xx');
      return this.bye('media-failed');
    }
    if (!this.media.negotiated) return this.bye('media-failed');
    this.setState('connected');
    this.mediaChanged(false);
    this.media.start();
    this.startSessionTimer(res, 'uac');
  }

  private onProvisional(res: SipResponse, dest: Destination): void {
    if (res.status === 100 || this.stateNow === 'ended') return;
    this.gotProvisional = true;
    if (this.cancelRequested && this.inviteTx) {
      this.deps.ua.cancel(this.inviteTx);
      return;
    }
    if (this.stateNow === 'calling') this.setState('early', res.status, res.reason);
    const tag = getTo(res).params.get('tag');
    const reliable = hasToken(res.headers.get('Require'), '100rel') && tag;
    if (reliable && this.inviteTx) {
      let prack = this.pracks.get(tag);
      if (!prack) {
        prack = new PrackUac(getCSeq(this.inviteTx.request).seq);
        this.pracks.set(tag, prack);
        const early = Dialog.asUac(this.inviteTx.request, res, this.deps.contact(this.transport, this.profile?.config.user ?? 'phone'));
        this.deps.ua.addDialog(early);
        this.dialog = early;
      }
      const decision = prack.receive(res.headers.get('RSeq'));
      if (decision.kind === 'ignore') return;
      this.earlyMedia(res, true);
      const pr = this.dialog?.createRequest('PRACK', { headers: [['RAck', decision.rack]] });
      if (pr) void this.sendInDialog(pr, dest).catch((err: unknown) => this.deps.onError(err, 'PRACK'));
      return;
    }
    this.earlyMedia(res);
  }

  /** SDP in a 1xx: final when the response is reliable, a preview otherwise (§13.2.1). */
  private earlyMedia(res: SipResponse, reliable = false): void {
    if (!isSdp(res) || !this.media || !this.media.awaitingAnswer) return;
    try {
      this.media.acceptAnswer(res.body, reliable);
      this.mediaChanged(true);
    } catch (err) {
      this.deps.onError(err, `SDP in ${res.status}`);
    }
  }

  // ---- incoming -----------------------------------------------------------------------------

  /** An INVITE the client decided to let ring. Sends 180 (or 488/400 for an unusable offer). */
  static async incoming(deps: SessionDeps, invite: IncomingInvite, profile: Profile | undefined, waiting: boolean, track: (s: Session) => void): Promise<Session | undefined> {
    const req = invite.request;
    const from = getFrom(req);
    const transport = invite.peer.transport.toUpperCase();
    const s = new Session(deps, 'in', formatUri(from.uri), profile, transport);
    s.invite = invite;
    s.localTag = deps.ua.newTag();
    try {
      s.media = await SessionMedia.open(deps.media);
      s.forwardMediaEvents(s.media);
    } catch (err) {
      deps.onError(err, 'incoming call media');
      s.respond(503, 'Service Unavailable', [['Retry-After', '10']]);
      return undefined;
    }
    const se = parseSessionExpires(req.headers.get('Session-Expires'));
    if (se && se.intervalS < MIN_SE_S) {
      s.respond(422, 'Session Interval Too Small', [['Min-SE', String(MIN_SE_S)]]);
      await s.media.close();
      return undefined;
    }
    if (isSdp(req)) {
      try {
        s.answerText = s.media.answerOffer(req.body).sdp;
        s.openPinhole();
      } catch (err) {
        deps.onError(err, 'SDP offer in INVITE');
        s.respond(488, 'Not Acceptable Here', [['Warning', '304 deskphone "no common media"']]);
        await s.media.close();
        return undefined;
      }
    }
    s.dialog = Dialog.asUas(req, s.localTag, deps.contact(transport, s.userPart()), true);
    deps.ua.addDialog(s.dialog);
    s.respond(180, 'Ringing');
    track(s);
    const na = from.displayName !== undefined ? { displayName: from.displayName } : {};
    deps.emit('sessionStateChanged', { session: s.id, state: 'incoming', previous: 'incoming', direction: 'in', peer: s.peer });
    deps.emit('incomingCall', { session: s.id, profile: profile?.id, from: s.peer, waiting, ...na });
    return s;
  }

  private userPart(): string {
    const to = this.invite ? getTo(this.invite.request).uri : undefined;
    return to && isSipUri(to) && to.user ? to.user : this.profile?.config.user ?? 'phone';
  }

  private responseTo(status: number, reason?: string, headers: ReadonlyArray<readonly [string, string]> = []): SipResponse {
    const req = (this.invite as IncomingInvite).request;
    const res = makeResponse(req, status, reason);
    res.headers.set('To', `${req.headers.get('To') ?? ''};tag=${this.localTag}`);
    // RFC 3261 §12.1.1: a response that makes a dialog copies Record-Route, or the far end's ACK
    // and BYE skip the proxy and go straight to our Contact, where a NAT drops them.
    if (status > 100 && status < 300) for (const rr of req.headers.getAll('Record-Route')) res.headers.append('Record-Route', rr);
    if (status < 300) {
      res.headers.append('Contact', formatNameAddr(this.deps.contact(this.transport, this.userPart())));
      res.headers.append('Allow', ALLOW);
      res.headers.append('Supported', SUPPORTED);
    }
    for (const [n, v] of headers) res.headers.append(n, v);
    return res;
  }

  private respond(status: number, reason?: string, headers: ReadonlyArray<readonly [string, string]> = []): void {
    if (!this.invite) return;
    this.deps.ua.answer(this.invite.transaction, this.responseTo(status, reason, headers));
  }

  /** Callee early media: 183 with our answer, reliable (100rel) when the caller supports it. */
  progress(): void {
    if (this.direction !== 'in' || this.stateNow !== 'incoming' || !this.invite || !this.media) throw new SessionError('illegal-state', this.stateNow, 'early media only while an incoming call rings');
    const req = this.invite.request;
    const sdp = this.media.negotiated ? this.answerSdp() : undefined;
    if (!sdp) return this.respond(180, 'Ringing');
    const caps = `${req.headers.get('Supported') ?? ''},${req.headers.get('Require') ?? ''}`;
    if (!hasToken(caps, '100rel')) {
      this.deps.ua.answer(this.invite.transaction, this.withBody(this.responseTo(183, 'Session Progress'), sdp));
      this.mediaChanged(true);
      return;
    }
    this.reliable ??= new ReliableProvisionalUas(getCSeq(req).seq, this.deps.t1Ms());
    if (!this.reliable.canSend) return;
    this.reliableResponse = this.withBody(this.responseTo(183, 'Session Progress', [['Require', '100rel']]), sdp);
    this.runReliable(this.reliable.send(this.deps.clock.now()));
    this.mediaChanged(true);
  }

  private answerSdp(): string | undefined {
    return this.answerText;
  }

  private withBody(res: SipResponse, sdp: string): SipResponse {
    const body = bytes(sdp);
    res.headers.set('Content-Type', 'application/sdp');
    res.headers.set('Content-Length', String(body.length));
    res.body = body;
    return res;
  }

  private runReliable(actions: ReliableProvisionalAction[]): void {
    for (const a of actions) {
      if (a.kind === 'send' && this.reliableResponse && this.invite) {
        this.reliableResponse.headers.set('RSeq', String(a.rseq));
        this.deps.ua.answer(this.invite.transaction, this.reliableResponse);
      } else if (a.kind === 'wakeAt') {
        this.deps.clock.cancel(this.reliableTimer);
        this.reliableTimer = this.deps.clock.setTimer(a.atMs - this.deps.clock.now(), () => this.reliable && this.runReliable(this.reliable.wake(this.deps.clock.now())));
      } else if (a.kind === 'failed') {
        // RFC 3262 §3: no PRACK within 64*T1: reject the INVITE.
        this.respond(504, 'Server Time-out');
        void this.end('failed', 504);
      } else if (a.kind === 'acknowledged') {
        this.deps.clock.cancel(this.reliableTimer);
        if (this.answerWaitsForPrack) {
          this.answerWaitsForPrack = false;
          this.answer();
        }
      }
    }
  }

  /** Answers an incoming call (200 with our SDP) and starts media. */
  answer(): void {
    if (this.direction !== 'in' || this.stateNow !== 'incoming' || !this.invite || !this.media || !this.dialog) throw new SessionError('illegal-state', this.stateNow, `cannot answer a session in state ${this.stateNow}`);
    // RFC 3262 §3: no 2xx while a reliable 1xx with SDP waits for its PRACK.
    if (this.reliable?.state === 'awaitingPrack') {
      this.answerWaitsForPrack = true;
      return;
    }
    const req = this.invite.request;
    const headers: Array<[string, string]> = [];
    const se = parseSessionExpires(req.headers.get('Session-Expires'));
    let refresher: 'uac' | 'uas' | undefined;
    if (se && this.deps.sessionExpiresS > 0) {
      refresher = se.refresher ?? (hasToken(req.headers.get('Supported'), 'timer') ? 'uac' : 'uas');
      headers.push(['Session-Expires', `${se.intervalS};refresher=${refresher}`]);
      if (hasToken(req.headers.get('Supported'), 'timer')) headers.push(['Require', 'timer']);
    }
    const sdp = isSdp(req) ? this.answerSdp() : this.media.createOffer();
    if (!sdp) return;
    const res = this.withBody(this.responseTo(200, 'OK', headers), sdp);
    this.reliable?.finish();
    this.deps.clock.cancel(this.reliableTimer);
    this.deps.ua.accept(this.invite.transaction, res, () => void this.bye('failed'));
    if (this.dialog.state === 'early') this.dialog.transition('confirmed');
    this.setState('connected');
    this.mediaChanged(false);
    this.media.start();
    if (se && refresher) {
      this.timer = new SessionTimer(se.intervalS, refresher === 'uas');
      this.runTimer(this.timer.refreshed(this.deps.clock.now()));
    }
  }

  /** Rejects an incoming call that has not been answered (486 Busy Here, 603 Decline, ...). */
  reject(status = 486, reason?: string): void {
    if (this.direction !== 'in' || this.stateNow !== 'incoming') throw new SessionError('illegal-state', this.stateNow, `cannot reject a session in state ${this.stateNow}`);
    this.reliable?.finish();
    this.respond(status, reason);
    void this.end(status === 486 ? 'busy' : status === 603 ? 'declined' : 'rejected', status);
  }

  /** The caller CANCELled (the UA already answered 487). */
  cancelledByPeer(): void {
    this.reliable?.finish();
    void this.end('cancelled', 487);
  }

  // ---- both directions ----------------------------------------------------------------------

  /** Hangs up: CANCEL before an answer, BYE after, 603 for a ringing incoming call. */
  hangup(): void {
    switch (this.stateNow) {
      case 'calling':
      case 'early':
        this.cancelRequested = true;
        this.setState('ending');
        if (this.gotProvisional && this.inviteTx) this.deps.ua.cancel(this.inviteTx);
        else if (!this.inviteTx) void this.end('hangup');
        return;
      case 'incoming':
        this.reject(603, 'Decline');
        return;
      case 'connected':
      case 'held':
        void this.bye('hangup');
        return;
      default:
    }
  }

  /** RFC 6337 hold: re-INVITE with sendonly (inactive when the peer holds us too). */
  hold(): Promise<void> {
    if (this.stateNow !== 'connected') throw new SessionError('illegal-state', this.stateNow, `cannot hold in state ${this.stateNow}`);
    return this.reoffer(true);
  }

  resume(): Promise<void> {
    if (this.stateNow !== 'held') throw new SessionError('illegal-state', this.stateNow, `cannot resume in state ${this.stateNow}`);
    return this.reoffer(false);
  }

  /** A re-INVITE with a new offer; 491 (glare) is retried after the RFC 3261 §14.1 random wait. */
  private async reoffer(hold: boolean | undefined, attempt = 0): Promise<void> {
    const dialog = this.dialog;
    if (!dialog || !this.media) throw new SessionError('no-dialog', this.stateNow, 'no dialog');
    this.offerInFlight = true;
    const body = bytes(this.media.createOffer(hold));
    const headers: Array<[string, string]> = [['Allow', ALLOW], ['Supported', SUPPORTED]];
    if (this.timer) headers.push(['Session-Expires', `${this.timer.intervalS};refresher=${this.timer.weRefresh ? (this.direction === 'out' ? 'uac' : 'uas') : this.direction === 'out' ? 'uas' : 'uac'}`]);
    const req = dialog.createRequest('INVITE', { body, contentType: 'application/sdp', headers });
    let res: SipResponse;
    try {
      res = (await this.deps.ua.invite(req, await this.nextHop(req))).response;
    } catch (err) {
      // §12.2.1.2: no response at all to a request inside the dialog ends it, as a 408 does.
      if (!(err instanceof SipRequestError && err.reason === 'timeout')) throw err;
      res = makeResponse(req, 408, 'Request Timeout');
    } finally {
      this.offerInFlight = false;
    }
    if (res.status === 491 && attempt < 3) {
      // §14.1: the owner of the Call-ID waits 2.1-4 s, the other side 0-2 s.
      const waitMs = this.direction === 'out' ? 2100 + Math.random() * 1900 : Math.random() * 2000;
      await new Promise<void>((r) => this.deps.clock.setTimer(waitMs, r));
      if (this.stateNow === 'connected' || this.stateNow === 'held') return this.reoffer(hold, attempt + 1);
      return;
    }
    if (res.status >= 300) {
      if (hold !== undefined) this.media.createOffer(!hold); // our wish did not happen: restore it
      if (res.status === 481 || res.status === 408) return this.end('failed', res.status, res.reason);
      this.deps.emit('error', { context: 're-INVITE', message: `${res.status} ${res.reason}`, status: res.status });
      return;
    }
    if (isSdp(res)) this.media.acceptAnswer(res.body, true);
    this.afterOfferAnswer();
    if (this.timer) this.runTimer(this.timer.refreshed(this.deps.clock.now()));
  }

  private afterOfferAnswer(): void {
    if (!this.media) return;
    const held = this.media.isHolding || this.media.isHeldByRemote;
    if (held && this.stateNow === 'connected') this.setState('held');
    else if (!held && this.stateNow === 'held') this.setState('connected');
    this.mediaChanged(false);
    this.media.start();
  }

  /** A request inside this session's dialog (the client routes it here). */
  handleRequest(req: SipRequest, tx: ServerTransaction): void {
    const ok = (extra: ReadonlyArray<readonly [string, string]> = [], sdp?: string): void => {
      const res = makeResponse(req, 200);
      for (const [n, v] of extra) res.headers.append(n, v);
      if (sdp) this.withBody(res, sdp);
      this.deps.ua.answer(tx, res);
    };
    switch (req.method) {
      case 'BYE':
        ok();
        void this.end('remote-hangup');
        return;
      case 'INVITE':
      case 'UPDATE': {
        // §14.2: an offer while ours is pending is glare.
        if (this.offerInFlight) return this.deps.ua.answer(tx, makeResponse(req, 491));
        const contact: Array<[string, string]> = [['Contact', formatNameAddr(this.deps.contact(this.transport, this.userPart()))], ['Allow', ALLOW], ['Supported', SUPPORTED]];
        let sdp: string | undefined;
        if (isSdp(req) && this.media) {
          try {
            sdp = this.media.answerOffer(req.body).sdp;
          } catch (err) {
            this.deps.onError(err, `SDP in ${req.method}`);
            return this.deps.ua.answer(tx, makeResponse(req, 488));
          }
        }
        const se = parseSessionExpires(req.headers.get('Session-Expires'));
        if (se && this.timer) contact.push(['Session-Expires', `${se.intervalS};refresher=${se.refresher ?? 'uac'}`]);
        if (req.method === 'INVITE') {
          const res = makeResponse(req, 200);
          for (const [n, v] of contact) res.headers.append(n, v);
          this.deps.ua.accept(tx, sdp ? this.withBody(res, sdp) : res);
        } else ok(contact, sdp);
        if (this.stateNow === 'connected' || this.stateNow === 'held') this.afterOfferAnswer();
        if (this.timer) this.runTimer(this.timer.refreshed(this.deps.clock.now()));
        return;
      }
      case 'PRACK': {
        const r = this.reliable?.prack(parseRAck(req.headers.get('RAck') ?? ''));
        if (!r || r.status !== 200) return this.deps.ua.answer(tx, makeResponse(req, 481));
        ok();
        this.runReliable(r.actions);
        return;
      }
      case 'INFO': {
        const type = (req.headers.get('Content-Type') ?? '').toLowerCase();
        const m = type.startsWith('application/dtmf-relay') ? /Signal\s*=\s*([0-9A-D*#])/i.exec(Buffer.from(req.body).toString('latin1')) : null;
        ok();
        if (m?.[1]) this.deps.emit('dtmfReceived', { session: this.id, digit: m[1].toUpperCase() });
        return;
      }
      case 'REFER':
      case 'NOTIFY':
        if (this.onTransferRequest) return this.onTransferRequest(req, tx);
        return this.deps.ua.answer(tx, makeResponse(req, req.method === 'NOTIFY' ? 481 : 603));
      default:
        ok();
    }
  }

  /** transfer.ts handles REFER and its NOTIFYs. */
  onTransferRequest: ((req: SipRequest, tx: ServerTransaction) => void) | undefined;

  /** Sends a request inside the dialog and resolves with the final response. */
  async request(method: string, headers: ReadonlyArray<readonly [string, string]> = [], body?: { type: string; bytes: Uint8Array }): Promise<SipResponse> {
    if (!this.dialog) throw new SessionError('no-dialog', this.stateNow, `no dialog for ${method}`);
    const req = this.dialog.createRequest(method, { headers, ...(body ? { body: body.bytes, contentType: body.type } : {}) });
    return this.deps.ua.request(req, await this.nextHop(req));
  }

  private async sendInDialog(req: SipRequest, fallback: Destination): Promise<SipResponse> {
    return this.deps.ua.request(req, await this.nextHop(req).catch(() => fallback));
  }

  /** Ends a call that has a dialog with BYE (also used by transfer.ts once a transfer worked). */
  async bye(reason: EndReason): Promise<void> {
    if (this.stateNow === 'ended') return;
    this.setState('ending');
    this.media?.stop();
    try {
      await this.request('BYE');
    } catch (err) {
      this.deps.onError(err, 'BYE');
    }
    await this.end(reason);
  }

  private firstHop(target: SipUri): Promise<Destination> {
    return firstHop(this.deps.locator, this.profile, target, this.transport);
  }

  private nextHop(req: SipRequest): Promise<Destination> {
    return nextHop(this.deps.locator, req, this.transport);
  }

  private startSessionTimer(res: SipResponse, we: 'uac' | 'uas'): void {
    const se = parseSessionExpires(res.headers.get('Session-Expires'));
    if (!se || this.deps.sessionExpiresS === 0) return;
    this.timer = new SessionTimer(se.intervalS, (se.refresher ?? 'uac') === we);
    this.runTimer(this.timer.refreshed(this.deps.clock.now()));
  }

  private runTimer(actions: SessionTimerAction[]): void {
    for (const a of actions) {
      if (a.kind === 'wakeAt') {
        this.deps.clock.cancel(this.timerHandle);
        this.timerHandle = this.deps.clock.setTimer(a.atMs - this.deps.clock.now(), () => this.timer && this.runTimer(this.timer.wake()));
      } else if (a.kind === 'refresh') {
        if (this.stateNow === 'connected' || this.stateNow === 'held') void this.reoffer(undefined).catch((err: unknown) => this.deps.onError(err, 'session refresh'));
      } else if (a.kind === 'expired') {
        void this.bye('timeout');
      }
    }
  }

  /** RFC 4733 key presses from the call audio become dtmfReceived, as INFO ones do. */
  private forwardMediaEvents(media: SessionMedia): void {
    media.events.on('dtmf', ({ digit }) => this.deps.emit('dtmfReceived', { session: this.id, digit }));
    media.events.on('error', ({ error, context }) => this.deps.onError(error, context));
    media.events.on('quality', ({ rttMs, ...q }) => this.deps.emit('callQuality', { session: this.id, ...q, ...(rttMs === undefined ? {} : { rttMs }) }));
  }

  private mediaChanged(early: boolean): void {
    const n = this.media?.negotiated;
    if (!n || !this.media) return;
    this.openPinhole();
    this.deps.emit('mediaChanged', {
      session: this.id, codec: n.codec.name, localAddress: this.media.mapping.address, localPort: this.media.mapping.port,
      remoteAddress: n.remoteAddress, remotePort: n.remoteRtpPort, direction: n.localDirection, early,
    });
  }

  /** Early UDP (early-udp.ts): a few packets to each new far-end media address, from our RTP socket. */
  private openPinhole(): void {
    const n = this.media?.negotiated;
    if (!this.deps.earlyUdp || !n || !this.media) return;
    const rtp = this.media.rtp;
    this.earlyUdp ??= new EarlyUdp({ clock: this.deps.clock, ssrc: rtp.ssrc, send: (bytes, to) => rtp.sendRaw(bytes, to) });
    this.earlyUdp.open(earlyUdpTarget(n));
  }

  private setState(next: SessionState, status?: number, reasonPhrase?: string): void {
    const previous = this.stateNow;
    if (previous === next || previous === 'ended') return;
    this.stateNow = next;
    if (next === 'connected' && previous !== 'held') this.transferHook?.('connected');
    this.deps.emit('sessionStateChanged', {
      session: this.id, state: next, previous, direction: this.direction, peer: this.peer,
      ...(status !== undefined ? { status } : {}), ...(reasonPhrase !== undefined ? { reasonPhrase } : {}),
    });
  }

  private fail(err: unknown, context: string): void {
    this.deps.onError(err, context);
    this.deps.emit('error', { context, message: err instanceof Error ? err.message : String(err) });
    void this.end('failed');
  }

  /** Ends the session: timers stop, the media socket closes, the dialog is forgotten. */
  async end(reason: EndReason, status?: number, reasonPhrase?: string): Promise<void> {
    if (this.stateNow === 'ended') return;
    this.endedReason = reason;
    this.deps.clock.cancel(this.timerHandle);
    this.deps.clock.cancel(this.reliableTimer);
    this.earlyUdp?.close();
    if (this.dialog) {
      if (this.dialog.state !== 'terminated') this.dialog.transition('terminated');
      this.deps.ua.removeDialog(this.dialog);
    }
    const previous = this.stateNow;
    this.stateNow = 'ended';
    this.deps.emit('sessionStateChanged', {
      session: this.id, state: 'ended', previous, direction: this.direction, peer: this.peer, endReason: reason,
      ...(status !== undefined ? { status } : {}), ...(reasonPhrase !== undefined ? { reasonPhrase } : {}),
    });
    this.transferHook?.('ended', status);
    this.deps.onEnded(this);
    await this.media?.close();
  }

}

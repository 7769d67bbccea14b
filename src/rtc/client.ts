// The RTC client: the only API the phone and the web page use (DESIGN.md). It owns the SIP UA,
// the profiles (accounts) and the sessions (calls), asks the port manager for the SIP socket's
// public address once (the Contact and Via of every request come from it), and reports
// everything as typed events.
import { randomUUID } from 'node:crypto';
import type { PortManager, PortMapping, SocketChannel } from '../nat/index.js';
import { CachingResolver, NodeResolver, ServerLocator, type DnsResolver } from '../sip/dns/index.js';
import { formatUri, getCallId, getTo, isSipUri, makeResponse, parseNameAddr, parseUri, type NameAddr, type SipResponse, type SipUri } from '../sip/message/index.js';
import type { TransactionTimers } from '../sip/transaction/index.js';
import type { TransportName } from '../sip/transport/index.js';
import { UserAgent, type IncomingInvite } from '../sip/ua/index.js';
import { TypedEmitter, type Clock } from '../util/index.js';
import { AlgDetector, type AlgEvidence } from './alg-detector.js';
import { Profile, type ProfileConfig, type RegistrationEvent } from './profile.js';
import type { RtcEvents } from './rtc-events.js';
import { SipAlgAvoidance, type SipAlgAvoidanceAction, type SipAlgAvoidanceMode, type SipAlgAvoidanceReport } from './sip-alg-avoidance.js';
import type { MediaSettings } from './session-media.js';
import { Session, type SessionDeps } from './session.js';
import { attachTransfer, transfer } from './transfer.js';

export interface CallSettings {
  readonly acceptOnlyFromProxy: boolean;
  readonly allowDirectIpCalls: boolean;
  readonly callWaiting: boolean;
  readonly doNotDisturb: boolean;
  /** RFC 4028 interval asked for; 0 turns session timers off. */
  readonly sessionExpiresS: number;
  /** rtc.enableEarlyUdpPackets: open the NAT for early media (early-udp.ts). Default off. */
  readonly earlyUdp?: boolean;
}

export interface RtcClientOptions {
  readonly clock: Clock;
  /** Local addresses the SIP transports bind to. */
  readonly addresses: readonly string[];
  readonly sipPort: number;
  readonly transports: readonly TransportName[];
  readonly timers: () => TransactionTimers;
  readonly userAgent: string;
  readonly portManager: PortManager;
  /** The interface address behind a wildcard bind (for RTP sockets and local mappings). */
  readonly localAddress: string;
  readonly instanceId?: string;
  readonly media: () => MediaSettings;
  readonly calls: () => CallSettings;
  readonly rport?: () => boolean;
  readonly rateLimit?: { ratePerS: number; burst: number };
  readonly maxServerTransactions?: number;
  readonly maxStreamMessageBytes?: number;
  readonly resolver?: DnsResolver;
  /** RFC 5626 keep-alive interval for registrations whose registrar names none; 0: off. */
  readonly keepaliveIntervalS?: () => number;
  /** RFC 6263 media keep-alives on every call (at the shorter of 15 s and keepaliveIntervalS); default true, false only for a test's control. */
  readonly mediaKeepalive?: boolean;
  /** nat.sipAlgAvoidance: what a profile does once a SIP ALG is seen (sip-alg-avoidance.ts); default off. */
  readonly sipAlgAvoidance?: () => SipAlgAvoidanceMode;
  readonly onLog?: (err: unknown, context: string) => void;
}

export class RtcClient {
  readonly events: TypedEmitter<RtcEvents>;
  readonly ua: UserAgent;
  readonly instanceId: string;
  private readonly profilesById = new Map<string, Profile>();
  private readonly sessionsById = new Map<string, Session>();
  private readonly locator: ServerLocator;
  private sipMapping: PortMapping | undefined;
  /** The port manager's STUN answers on the SIP socket. */
  private readonly nonSipHandlers = new Set<(bytes: Uint8Array, from: { address: string; port: number }) => boolean>();
  private closed = false;
  private readonly alg = new AlgDetector();
  private readonly avoidance = new Map<string, SipAlgAvoidance>();

  private constructor(private readonly options: RtcClientOptions) {
    this.events = new TypedEmitter<RtcEvents>((err, event) => this.log(err, `listener of ${event}`));
    this.instanceId = options.instanceId || randomUUID();
    this.locator = new ServerLocator(options.resolver ?? new CachingResolver(new NodeResolver(), options.clock), options.transports.filter((t): t is 'UDP' | 'TCP' | 'TLS' => t === 'UDP' || t === 'TCP' || t === 'TLS'));
    this.ua = new UserAgent({
      clock: options.clock,
      addresses: options.addresses,
      port: options.sipPort,
      transports: options.transports,
      timers: options.timers,
      userAgent: options.userAgent,
      advertised: () => this.advertised(),
      ...(options.rport ? { rport: options.rport } : {}),
      ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
      ...(options.maxServerTransactions !== undefined ? { maxServerTransactions: options.maxServerTransactions } : {}),
      ...(options.maxStreamMessageBytes !== undefined ? { maxStreamMessageBytes: options.maxStreamMessageBytes } : {}),
      onError: (err, ctx) => this.log(err, ctx),
      // STUN answers to the flow keep-alives arrive on the SIP socket.
      onNonSip: (bytes, source) => {
        for (const h of this.nonSipHandlers) if (h(bytes, source)) return;
        for (const p of this.profilesById.values()) if (p.handleNonSip(bytes, source)) return;
      },
    });
    this.ua.setHandlers({
      onInvite: (inv) => void this.onInvite(inv).catch((err: unknown) => this.log(err, 'incoming INVITE')),
      onDialogRequest: (dialog, req, tx) => {
        const s = [...this.sessionsById.values()].find((x) => x.dialog === dialog);
        if (s) s.handleRequest(req, tx);
        else this.ua.answer(tx, makeResponse(req, req.method === 'BYE' ? 200 : 481));
      },
      onCancelled: (req) => {
        const callId = getCallId(req);
        for (const s of this.sessionsById.values()) if (s.direction === 'in' && s.state === 'incoming' && s.dialog?.id.callId === callId) s.cancelledByPeer();
      },
    });
  }

  /** Starts the SIP transports and learns the SIP socket's advertised address. */
  static async start(options: RtcClientOptions): Promise<RtcClient> {
    const c = new RtcClient(options);
    await c.ua.start();
    try {
      c.sipMapping = await options.portManager.getMapping({ kind: 'sip', local: c.sipSocket(), scope: 'profile', channel: c.sipChannel() });
    } catch (err) {
      await c.ua.close();
      throw err;
    }
    return c;
  }

  /** The SIP socket as bound (a wildcard address lets the port manager pick the interface's). */
  private sipSocket(): { address: string; port: number } {
    return { address: this.options.addresses[0] ?? this.options.localAddress, port: this.ua.port };
  }

  /** The SIP UDP socket as the port manager's providers use it (STUN from the SIP port). */
  private sipChannel(): SocketChannel {
    return {
      socket: {
        send: (msg, port, address, callback) => {
          this.ua.transport.sendBytes(Buffer.from(msg), { transport: 'UDP', address, port }).then(() => callback(null), (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))));
        },
      },
      subscribe: (handler) => {
        this.nonSipHandlers.add(handler);
        return () => this.nonSipHandlers.delete(handler);
      },
    };
  }

  get sipPort(): number {
    return this.ua.port;
  }

  /** The SIP socket's advertised address (the port manager's answer), for Via and Contact. */
  advertised(): { host: string; port: number } {
    return this.sipMapping ? { host: this.sipMapping.address, port: this.sipMapping.port } : { host: this.options.localAddress, port: this.ua.port };
  }

  /** Asks the port manager again (new local address, new NAT mapping) and re-registers. */
  async refreshMapping(): Promise<void> {
    const next = await this.options.portManager.getMapping({ kind: 'sip', local: this.sipSocket(), scope: 'profile', channel: this.sipChannel() });
    const changed = !this.sipMapping || next.address !== this.sipMapping.address || next.port !== this.sipMapping.port;
    this.sipMapping = next;
    if (changed) for (const p of this.profilesById.values()) p.addressChanged();
  }

  /** nat.keepaliveIntervalS or the measured binding lifetime changed: running keep-alives (flows and calls' media) take the new interval. */
  keepaliveIntervalChanged(): void {
    for (const p of this.profilesById.values()) p.keepaliveSettingChanged();
    for (const s of this.sessionsById.values()) s.media?.keepaliveSettingChanged();
  }

  /** What gave a SIP ALG away, once one was seen (alg-detector.ts); the client only reports it. */
  get sipAlg(): AlgEvidence | undefined {
    return this.alg.evidence;
  }

  /** Our address as the SIP server last saw it (received/rport of our Via). */
  get serverReflexive(): { address: string | undefined; port: number | undefined } | undefined {
    return this.alg.serverReflexive;
  }

  private observeResponse(method: string, response: SipResponse, destination: { transport: string; address: string; port: number }, contact?: NameAddr): void {
    const instance = contact?.params.get('+sip.instance') ?? undefined;
    const found = this.alg.observe({
      method, response, sentBy: this.advertised(), destination,
      ...(contact && isSipUri(contact.uri) ? { contact: { uri: contact.uri, instance } } : {}),
    });
    if (found) {
      this.events.emit('sipAlgDetected', found);
      for (const p of this.profiles) if (p.state === 'registered') this.avoidAlg(p, { profile: p.id, state: 'registered', expiresS: p.expiresS });
    }
  }

  /** What each profile did about the SIP ALG, once it did something. */
  get sipAlgAvoidance(): SipAlgAvoidanceReport[] {
    return [...this.avoidance.values()].flatMap((a) => (a.report ? [a.report] : []));
  }

  private avoidAlg(p: Profile, e: RegistrationEvent): void {
    const machine = this.avoidance.get(p.id);
    const flow = p.registrationFlow;
    if (!machine || !flow || this.profilesById.get(p.id) !== p) return;
    const mode = this.options.sipAlgAvoidance?.() ?? 'off';
    let actions: SipAlgAvoidanceAction[] = [];
    if (e.state === 'registered') actions = machine.registered(flow, this.alg.detected, mode);
    else if (e.state === 'failed') actions = machine.failed(flow.transport, e.reason ?? 'failed');
    for (const a of actions) {
      if (a.kind === 'report') this.events.emit('sipAlgAvoidance', a.report);
      else void p.changeTransport(a.to).catch((err: unknown) => this.log(err, `SIP ALG avoidance of ${p.id}`));
    }
  }

  // ---- profiles -----------------------------------------------------------------------------

  addProfile(config: ProfileConfig, register = true): Profile {
    if (this.profilesById.has(config.id)) throw new Error(`profile ${config.id} exists`);
    const p = new Profile(config, {
      ua: this.ua,
      clock: this.options.clock,
      locator: this.locator,
      advertised: () => this.advertised(),
      instanceId: this.instanceId,
      onState: (e) => {
        this.events.emit('registrationStateChanged', e);
        this.avoidAlg(p, e);
      },
      onError: (err, ctx) => this.log(err, ctx),
      ...(this.options.keepaliveIntervalS ? { keepaliveIntervalS: this.options.keepaliveIntervalS } : {}),
      onResponse: (res, destination, contact) => this.observeResponse('REGISTER', res, destination, contact),
    });
    this.profilesById.set(config.id, p);
    this.avoidance.set(config.id, new SipAlgAvoidance(config.id));
    if (register) p.start();
    return p;
  }

  async removeProfile(id: string): Promise<void> {
    const p = this.profilesById.get(id);
    if (!p) return;
    this.profilesById.delete(id);
    this.avoidance.delete(id);
    await p.stop();
  }

  get profiles(): Profile[] {
    return [...this.profilesById.values()];
  }

  profile(id: string): Profile | undefined {
    return this.profilesById.get(id);
  }

  // ---- sessions -----------------------------------------------------------------------------

  get sessions(): Session[] {
    return [...this.sessionsById.values()];
  }

  session(id: string): Session | undefined {
    return this.sessionsById.get(id);
  }

  /**
   * Calls a target: a full SIP URI (`sip:bob@example.net`, `sip:198.51.100.7:5070` for direct IP
   * dialling), or digits/a user name that go to the profile's domain.
   */
  call(target: string, profileId?: string): Session {
    if (this.closed) throw new Error('client closed');
    const profile = profileId !== undefined ? this.profilesById.get(profileId) : this.defaultProfile();
    if (profileId !== undefined && !profile) throw new Error(`no profile ${profileId}`);
    const uri = this.targetUri(target, profile);
    return Session.outgoing(this.sessionDeps(), uri, isDirect(uri, profile) ? undefined : profile, (s) => this.track(s));
  }

  private targetUri(target: string, profile: Profile | undefined): SipUri {
    const text = target.trim();
    if (/^sips?:/i.test(text)) {
      const uri = parseUri(text);
      if (!isSipUri(uri)) throw new Error(`not a SIP URI: ${target}`);
      return uri;
    }
    if (!profile) throw new Error(`${target} needs an account (or a full sip: URI)`);
    if (!/^[A-Za-z0-9*#+._~-]{1,64}$/.test(text)) throw new Error(`not a number or user name: ${target}`);
    return { scheme: profile.aor.scheme, user: text, host: profile.aor.host, params: new Map(), headers: new Map() };
  }

  private defaultProfile(): Profile | undefined {
    const all = this.profiles;
    return all.find((p) => p.state === 'registered') ?? all[0];
  }

  private track(s: Session): void {
    this.sessionsById.set(s.id, s);
    attachTransfer(s, {
      call: (target, from) => {
        this.events.emit('transferRequested', { session: from.id, target: formatUri(target) });
        return Session.outgoing(this.sessionDeps(), target, isDirect(target, from.profile) ? undefined : from.profile, (s) => this.track(s));
      },
      onError: (err, ctx) => this.log(err, ctx),
      emitFailure: (session, status, message) => this.events.emit('error', { context: `transfer of ${session.id}`, message, status }),
    });
  }

  private must(id: string): Session {
    const s = this.sessionsById.get(id);
    if (!s) throw new Error(`no call ${id}`);
    return s;
  }

  answer(id: string): void {
    this.must(id).answer();
  }

  hangup(id: string): void {
    this.must(id).hangup();
  }

  hold(id: string): Promise<void> {
    return this.must(id).hold();
  }

  resume(id: string): Promise<void> {
    return this.must(id).resume();
  }

  /** Blind transfer of a connected call to `target` (RFC 3515 REFER). */
  transfer(id: string, target: string): Promise<void> {
    const s = this.must(id);
    const uri = this.targetUri(target, s.profile);
    const by = s.profile ? `sip:${s.profile.config.user}@${s.profile.aor.host}` : `sip:phone@${this.advertised().host}`;
    return transfer(s, uri, by);
  }

  /** Callee early media (183 with SDP, reliable when the caller supports 100rel). */
  progress(id: string): void {
    this.must(id).progress();
  }

  private sessionDeps(): SessionDeps {
    const calls = this.options.calls();
    return {
      ua: this.ua,
      clock: this.options.clock,
      locator: this.locator,
      media: {
        clock: this.options.clock, portManager: this.options.portManager, settings: this.options.media,
        ...(this.options.keepaliveIntervalS ? { keepaliveIntervalS: this.options.keepaliveIntervalS } : {}),
        ...(this.options.mediaKeepalive === undefined ? {} : { mediaKeepalive: this.options.mediaKeepalive }),
      },
      emit: (event, payload) => this.events.emit(event, payload),
      contact: (transport, user) => this.contact(transport, user),
      sessionExpiresS: calls.sessionExpiresS,
      t1Ms: () => this.options.timers().t1Ms,
      onEnded: (s) => this.sessionsById.delete(s.id),
      onError: (err, ctx) => this.log(err, ctx),
      earlyUdp: calls.earlyUdp === true,
      onInviteResponse: (res, destination) => this.observeResponse('INVITE', res, destination),
    };
  }

  private contact(transport: string, user: string): NameAddr {
    const a = this.advertised();
    const host = a.host.includes(':') && !a.host.startsWith('[') ? `[${a.host}]` : a.host;
    const t = transport.toUpperCase() === 'UDP' ? '' : `;transport=${transport.toLowerCase()}`;
    return parseNameAddr(`<sip:${encodeURIComponent(user)}@${host}:${a.port}${t}>`);
  }

  private async onInvite(inv: IncomingInvite): Promise<void> {
    const req = inv.request;
    const calls = this.options.calls();
    const fromServer = this.profiles.find((p) => p.state === 'registered' && p.isOwnServer(inv.peer.address, inv.peer.port, inv.peer.transport));
    // "Accept only from proxy": SIP scanners on the internet must not ring the phone.
    if (!fromServer && calls.acceptOnlyFromProxy && !calls.allowDirectIpCalls) return this.rejectInvite(inv, 403, 'Forbidden (not from our proxy)');
    if (calls.doNotDisturb) return this.rejectInvite(inv, 486, 'Busy Here (do not disturb)');
    const busy = this.sessions.some((s) => s.isActive);
    if (busy && !calls.callWaiting) return this.rejectInvite(inv, 486, 'Busy Here');
    const toUser = getTo(req).uri;
    const profile = fromServer ?? this.profiles.find((p) => isSipUri(toUser) && toUser.user === p.config.user);
    await Session.incoming(this.sessionDeps(), inv, profile, busy, (s) => this.track(s));
  }

  private rejectInvite(inv: IncomingInvite, status: number, reason: string): void {
    const res = makeResponse(inv.request, status, reason);
    res.headers.set('To', `${inv.request.headers.get('To') ?? ''};tag=${this.ua.newTag()}`);
    this.ua.answer(inv.transaction, res);
  }

  /** Ends every call (BYE/CANCEL), un-registers every profile, closes the UA. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const calls = this.sessions.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.state === 'ended') return resolve();
          const off = this.events.on('sessionStateChanged', (e) => {
            if (e.session === s.id && e.state === 'ended') {
              off();
              resolve();
            }
          });
          s.hangup();
          this.options.clock.setTimer(1500, () => {
            off();
            void s.end('hangup').then(resolve);
          });
        }),
    );
    await Promise.all(calls);
    await Promise.all(this.profiles.map((p) => p.stop()));
    await this.options.portManager.releaseMapping('sip', this.sipSocket()).catch(() => {});
    await this.ua.close();
  }

  private log(err: unknown, context: string): void {
    this.options.onLog?.(err, context);
  }
}

/** A URI with an explicit host that is not the profile's domain is dialled directly. */
function isDirect(uri: SipUri, profile: Profile | undefined): boolean {
  return !profile || (uri.host !== profile.aor.host && uri.port !== undefined);
}

// A profile: one SIP account (registrar, proxy, credentials) and the driver of its registration
// machine (registration.ts). It builds REGISTER requests with the Contact the port manager gave
// the SIP socket, sends them through the UA (Digest retries happen there), and carries out the
// machine's actions with the injected clock. RFC 5626 outbound parameters (+sip.instance,
// reg-id, ob) go with every Contact; a registrar that does not support outbound ignores them.
import { decodeStunMessage, encodeStunMessage, getAttribute, isStun, newTransactionId, STUN_METHOD_BINDING } from '../nat/stun/index.js';
import type { Clock, TimerHandle } from '../util/index.js';
import type { ServerLocator, SipTransport, Target } from '../sip/dns/index.js';
import {
  SipHeaders, formatNameAddr, formatUri, getContacts, getExpires, isSipUri, parseUri, uriEquals,
  type NameAddr, type SipRequest, type SipResponse, type SipUri,
} from '../sip/message/index.js';
import type { UserAgent } from '../sip/ua/index.js';
import { FlowKeepalive, type KeepaliveAction } from './flow-keepalive.js';
import { Registration, type PublicRegistrationState, type RegistrationAction, type RegistrationResponse } from './registration.js';

export interface ProfileConfig {
  readonly id: string;
  readonly displayName?: string;
  /** sip:example.net or sip:203.0.113.20:5060 */
  readonly registrar: string;
  readonly proxy?: string;
  readonly user: string;
  readonly authUser?: string;
  readonly password?: string;
  readonly transport: 'udp' | 'tcp' | 'tls';
  readonly expiresS: number;
}

export interface RegistrationEvent {
  readonly profile: string;
  readonly state: PublicRegistrationState;
  readonly reason?: string;
  readonly expiresS: number;
  readonly contact?: string;
}

export interface ProfileDeps {
  readonly ua: UserAgent;
  readonly clock: Clock;
  readonly locator: ServerLocator;
  /** Our Contact address for a transport: the port manager's answer for the SIP socket. */
  readonly advertised: (transport: string) => { host: string; port: number };
  /** RFC 5626 instance UUID, persisted in the registry. */
  readonly instanceId: string;
  readonly onState: (e: RegistrationEvent) => void;
  readonly onError: (err: unknown, context: string) => void;
  /** Keep-alive interval when the registrar names none (Flow-Timer); 0 turns NAT keep-alives off. */
  readonly keepaliveIntervalS?: () => number;
  readonly random?: () => number;
  /** Every final response to our REGISTER, with where it went and the Contact it carried (SIP ALG detection). */
  readonly onResponse?: (res: SipResponse, destination: Target, contact: NameAddr | undefined) => void;
}

export class ProfileError extends Error {
  constructor(readonly code: 'bad-config', message: string) {
    super(message);
    this.name = 'ProfileError';
  }
}

function hostOf(uri: SipUri): string {
  return uri.host;
}

export class Profile {
  readonly registrarUri: SipUri;
  readonly proxyUri: SipUri | undefined;
  /** The address of record: sip:user@registrar-domain. */
  readonly aor: SipUri;
  private machine: Registration;
  /** SIP ALG avoidance (sip-alg-avoidance.ts) moved us off the account's transport. */
  private transportOverride: SipTransport | undefined;
  private readonly callId: string;
  private readonly fromTag: string;
  private cseq = 0;
  private timer: TimerHandle | undefined;
  private lastContact: NameAddr | undefined;
  private targets: Target[] = [];
  private stopped: (() => void) | undefined;
  private closed = false;
  /** Where the last REGISTER went: the flow the keep-alives keep open. */
  private flow: { transport: string; address: string; port: number; reliable: boolean } | undefined;
  private keepalive: FlowKeepalive | undefined;
  private keepaliveTimer: TimerHandle | undefined;
  private stunTxId: string | undefined;
  /** Our address as the registrar's STUN answers see it; a change means the NAT rebound us. */
  private reflexive: string | undefined;
  private lastResponse: SipResponse | undefined;

  constructor(readonly config: ProfileConfig, private readonly deps: ProfileDeps) {
    const registrar = parseUri(config.registrar);
    if (!isSipUri(registrar)) throw new ProfileError('bad-config', `profile ${config.id}: registrar ${config.registrar} is not a sip: URI`);
    if (!config.user) throw new ProfileError('bad-config', `profile ${config.id}: no SIP user`);
    this.registrarUri = registrar;
    const proxy = config.proxy ? parseUri(config.proxy) : undefined;
    if (proxy && !isSipUri(proxy)) throw new ProfileError('bad-config', `profile ${config.id}: proxy ${config.proxy} is not a sip: URI`);
    this.proxyUri = proxy;
    this.aor = { scheme: registrar.scheme, user: config.user, host: hostOf(registrar), params: new Map(), headers: new Map() };
    this.machine = new Registration({ expiresS: config.expiresS, ...(deps.random ? { random: deps.random } : {}) });
    this.callId = deps.ua.newCallId();
    this.fromTag = deps.ua.newTag();
  }

  get id(): string {
    return this.config.id;
  }

  get transportName(): SipTransport {
    return this.transportOverride ?? (this.config.transport.toUpperCase() as SipTransport);
  }

  /** Where the last REGISTER went (transport and port), once one was sent. */
  get registrationFlow(): { readonly transport: string; readonly port: number } | undefined {
    return this.flow;
  }

  get state(): PublicRegistrationState {
    return this.machine.publicState;
  }

  get expiresS(): number {
    return this.machine.expiresS;
  }

  /** Every binding of our address of record, as the registrar's last 2xx listed them. */
  get bindings(): string[] {
    const res = this.lastResponse;
    if (!res || res.status >= 300) return [];
    try {
      return getContacts(res).flatMap((c) => (c === '*' ? [] : [formatUri(c.uri)]));
    } catch {
      return [];
    }
  }

  get contact(): string | undefined {
    return this.lastContact ? formatNameAddr(this.lastContact) : undefined;
  }

  /** Where out-of-dialog requests of this profile go: the proxy, else the registrar (RFC 3263). */
  async outboundTargets(): Promise<Target[]> {
    const uri = this.proxyUri ?? this.registrarUri;
    // Moved to TLS by SIP ALG avoidance: a URI written with :5060 for UDP/TCP means 5061 for TLS.
    const port = this.transportOverride === 'TLS' && uri.port === 5060 ? 5061 : uri.port;
    const targets = await this.deps.locator.locate({ host: uri.host, ...(port !== undefined ? { port } : {}), transport: this.transportName, secure: uri.scheme === 'sips' });
    this.targets = targets;
    return targets;
  }

  /**
   * "Accept only from proxy": does a request from this source come through our registrar/proxy?
   * Over UDP the proxy sends from the port it listens on, so the port must match too; over a
   * stream the source port is the connection's.
   */
  isOwnServer(address: string, port: number, transport: string): boolean {
    const norm = (a: string) => a.replace(/^\[|\]$/g, '').toLowerCase();
    const udp = transport.toUpperCase() === 'UDP';
    return this.targets.some((t) => norm(t.address) === norm(address) && (!udp || t.port === port));
  }

  start(): void {
    this.apply(this.machine.start());
  }

  /** Our local address or public mapping changed: REGISTER the new Contact now. */
  addressChanged(): void {
    this.apply(this.machine.addressChanged());
  }

  /** Un-REGISTERs (if registered) and resolves when done or after `timeoutMs`. */
  async stop(timeoutMs = 2000): Promise<void> {
    await this.unregister(timeoutMs);
    this.closed = true;
  }

  /**
   * SIP ALG avoidance: un-REGISTERs the binding over the current transport (waiting at most
   * `timeoutMs`), then registers afresh over `transport`. The account's own setting is unchanged.
   */
  async changeTransport(transport: SipTransport, timeoutMs = 4000): Promise<void> {
    if (this.closed) return;
    await this.unregister(timeoutMs);
    if (this.closed) return;
    this.transportOverride = transport === this.config.transport.toUpperCase() ? undefined : transport;
    // A new machine: a late answer to the un-REGISTER must not count for the new registration.
    this.machine = new Registration({ expiresS: this.config.expiresS, ...(this.deps.random ? { random: this.deps.random } : {}) });
    this.lastContact = undefined;
    this.reflexive = undefined;
    this.apply(this.machine.start());
  }

  private unregister(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.stopKeepalive();
      const finish = (): void => {
        this.deps.clock.cancel(guard);
        this.deps.clock.cancel(this.timer);
        this.stopped = undefined;
        resolve();
      };
      const guard = this.deps.clock.setTimer(timeoutMs, finish);
      this.stopped = finish;
      this.apply(this.machine.stop());
    });
  }

  private apply(actions: RegistrationAction[]): void {
    for (const a of actions) {
      switch (a.kind) {
        case 'send':
          void this.send(a.expiresS, a.removeOld);
          break;
        case 'wakeAt':
          this.deps.clock.cancel(this.timer);
          this.timer = this.deps.clock.setTimer(Math.max(0, a.atMs - this.deps.clock.now()), () => this.apply(this.machine.wake()));
          break;
        case 'state': {
          const e: RegistrationEvent = { profile: this.id, state: a.state, expiresS: a.expiresS ?? 0, ...(a.reason !== undefined ? { reason: a.reason } : {}), ...(this.contact ? { contact: this.contact } : {}) };
          this.deps.onState(e);
          if (a.state === 'registered') this.startKeepalive();
          else if (a.state !== 'registering') this.stopKeepalive();
          if (a.state === 'unregistered' && this.stopped) this.stopped();
          break;
        }
      }
    }
  }

  private contactFor(): NameAddr {
    const a = this.deps.advertised(this.transportName);
    const host = a.host.includes(':') && !a.host.startsWith('[') ? `[${a.host}]` : a.host;
    const uri: SipUri = { scheme: 'sip', user: this.config.user, host, port: a.port, params: new Map(), headers: new Map() };
    if (this.transportName !== 'UDP') uri.params.set('transport', this.transportName.toLowerCase());
    uri.params.set('ob', null);
    const params = new Map<string, string | null>([
      ['+sip.instance', `"<urn:uuid:${this.deps.instanceId}>"`],
      ['reg-id', '1'],
    ]);
    return { uri, params };
  }

  private buildRegister(expiresS: number, removeOld: boolean): SipRequest {
    const contact = this.contactFor();
    const previous = this.lastContact;
    this.lastContact = contact;
    const reqUri: SipUri = { scheme: this.registrarUri.scheme, host: this.registrarUri.host, params: new Map(), headers: new Map() };
    if (this.registrarUri.port !== undefined) reqUri.port = this.registrarUri.port;
    const aor = formatUri(this.aor);
    const display = this.config.displayName ? `"${this.config.displayName.replace(/["\\]/g, '')}" ` : '';
    const h = new SipHeaders();
    h.append('Max-Forwards', '70');
    h.append('From', `${display}<${aor}>;tag=${this.fromTag}`);
    h.append('To', `${display}<${aor}>`);
    h.append('Call-ID', this.callId);
    h.append('CSeq', `${++this.cseq} REGISTER`);
    h.append('Contact', formatNameAddr(contact));
    if (removeOld && previous && !uriEquals(previous.uri, contact.uri)) h.append('Contact', `${formatNameAddr({ uri: previous.uri, params: new Map() })};expires=0`);
    h.append('Expires', String(expiresS));
    h.append('Supported', 'path, outbound');
    h.append('Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, REFER, NOTIFY, INFO');
    h.append('Content-Length', '0');
    return { kind: 'request', method: 'REGISTER', uri: reqUri, headers: h, body: new Uint8Array(0) };
  }

  private async send(expiresS: number, removeOld: boolean): Promise<void> {
    if (this.closed) return;
    const machine = this.machine;
    let res: SipResponse;
    let t: Target | undefined;
    try {
      const targets = await this.outboundTargets();
      t = targets[0];
      if (!t) throw new Error(`no address for ${formatUri(this.proxyUri ?? this.registrarUri)}`);
      const req = this.buildRegister(expiresS, removeOld);
      this.flow = { transport: t.transport, address: t.address, port: t.port, reliable: t.transport !== 'UDP' };
      const creds = { username: this.config.authUser || this.config.user, password: this.config.password ?? '' };
      res = await this.deps.ua.request(req, { transport: t.transport, address: t.address, port: t.port, reliable: t.transport !== 'UDP', ...(t.transport === 'TLS' ? { serverName: t.hostName } : {}) }, { credentials: creds });
    } catch (err) {
      this.deps.onError(err, `REGISTER ${this.id}`);
      if (machine === this.machine) this.apply(this.machine.timeout(err instanceof Error ? err.message : String(err), this.deps.clock.now()));
      return;
    }
    if (machine !== this.machine) return;
    this.lastResponse = res;
    this.deps.onResponse?.(res, t, this.lastContact);
    this.apply(this.machine.response(this.readResponse(res, expiresS), this.deps.clock.now()));
  }

  // ---- RFC 5626 §4.4 flow keep-alives --------------------------------------------------------

  /** The keep-alive interval setting (or the binding lifetime it comes from) changed: apply it now. */
  keepaliveSettingChanged(): void {
    if (this.machine.publicState === 'registered') this.startKeepalive();
  }

  /** The nominal keep-alive interval running now (ms), or undefined when none runs. */
  get keepaliveIntervalMs(): number | undefined {
    return this.keepalive?.intervalMs;
  }

  private startKeepalive(): void {
    const res = this.lastResponse;
    const outbound = res ? /(^|,)\s*outbound\s*(,|$)/i.test(res.headers.get('Require') ?? '') : false;
    const flowTimer = Number(res?.headers.get('Flow-Timer') ?? NaN);
    const intervalS = outbound && Number.isInteger(flowTimer) && flowTimer > 0 ? flowTimer : this.deps.keepaliveIntervalS?.() ?? 0;
    if (this.keepalive && this.keepalive.mode === (outbound ? 'outbound' : 'nat') && this.keepalive.intervalMs === intervalS * 1000) return;
    this.stopKeepalive();
    if (intervalS <= 0) return;
    this.keepalive = new FlowKeepalive(outbound ? 'outbound' : 'nat', intervalS * 1000, this.deps.random ?? Math.random);
    this.runKeepalive(this.keepalive.start(this.deps.clock.now()));
  }

  private stopKeepalive(): void {
    this.keepalive?.stop();
    this.keepalive = undefined;
    this.stunTxId = undefined;
    this.deps.clock.cancel(this.keepaliveTimer);
  }

  private runKeepalive(actions: KeepaliveAction[]): void {
    const ka = this.keepalive;
    if (!ka) return;
    for (const a of actions) {
      if (a.kind === 'wakeAt') {
        this.deps.clock.cancel(this.keepaliveTimer);
        this.keepaliveTimer = this.deps.clock.setTimer(Math.max(0, a.atMs - this.deps.clock.now()), () => this.keepalive === ka && this.runKeepalive(ka.wake(this.deps.clock.now())));
      } else if (a.kind === 'ping') {
        this.ping(ka, a.expectAnswer);
      } else if (a.kind === 'failed') {
        // §4.4.1/§4.5: the flow is gone; register again (a new flow through the NAT).
        this.deps.onError(new Error('no answer to the flow keep-alive'), `keep-alive ${this.id}`);
        this.stopKeepalive();
        this.apply(this.machine.addressChanged());
      }
    }
  }

  private ping(ka: FlowKeepalive, expectAnswer: boolean): void {
    const flow = this.flow;
    if (!flow) return;
    const answered = (): void => {
      if (this.keepalive === ka) this.runKeepalive(ka.answered(this.deps.clock.now()));
    };
    if (flow.reliable) {
      // §4.4.1: CRLFCRLF ping, CRLF pong on the same connection.
      this.deps.ua.transport.ping(flow, expectAnswer ? 10_000 : 1_000).then(answered, () => {});
      return;
    }
    if (!expectAnswer) {
      void this.deps.ua.transport.sendBytes(Buffer.from('\r\n\r\n'), flow).catch((err: unknown) => this.deps.onError(err, `keep-alive ${this.id}`));
      return;
    }
    // §4.4.2: a STUN Binding request on the SIP flow; the answer proves the flow and shows our mapping.
    const txId = newTransactionId();
    this.stunTxId = Buffer.from(txId).toString('hex');
    const bytes = encodeStunMessage({ method: STUN_METHOD_BINDING, class: 'request', transactionId: txId, attributes: [] }, { fingerprint: true });
    void this.deps.ua.transport.sendBytes(bytes, flow).catch((err: unknown) => this.deps.onError(err, `keep-alive ${this.id}`));
  }

  /**
   * A datagram on the SIP socket that is not SIP (the client hands them to every profile).
   * Returns true when it was the answer to this profile's STUN keep-alive.
   */
  handleNonSip(bytes: Uint8Array, source: { address: string; port: number }): boolean {
    if (!this.stunTxId || !this.flow || source.address !== this.flow.address || source.port !== this.flow.port || !isStun(bytes)) return false;
    let msg;
    try {
      msg = decodeStunMessage(bytes);
    } catch {
      return false;
    }
    if (Buffer.from(msg.transactionId).toString('hex') !== this.stunTxId || msg.class === 'request') return false;
    this.stunTxId = undefined;
    const mapped = (getAttribute(msg, 'xor-mapped-address') ?? getAttribute(msg, 'mapped-address'))?.address;
    const seen = mapped ? `${mapped.address}:${mapped.port}` : undefined;
    const rebound = seen !== undefined && this.reflexive !== undefined && seen !== this.reflexive;
    if (seen !== undefined) this.reflexive = seen;
    if (msg.class === 'error' || rebound) {
      // §4.4.2: an error, or a new reflexive address (the NAT rebound us): register a new flow.
      this.stopKeepalive();
      this.apply(this.machine.addressChanged());
      return true;
    }
    if (this.keepalive) this.runKeepalive(this.keepalive.answered(this.deps.clock.now()));
    return true;
  }

  private readResponse(res: SipResponse, requestedS: number): RegistrationResponse {
    const num = (v: string | undefined) => (v !== undefined && /^\d{1,10}$/.test(v.trim()) ? Number(v.trim()) : undefined);
    let grantedS: number | undefined;
    if (res.status >= 200 && res.status < 300 && requestedS > 0) {
      try {
        const mine = this.lastContact;
        for (const c of getContacts(res)) {
          if (c === '*' || !mine || !uriEquals(c.uri, mine.uri)) continue;
          grantedS = num(c.params.get('expires') ?? undefined);
        }
        grantedS ??= getExpires(res);
      } catch {
        grantedS = undefined; // a malformed Contact list: fall back to what we asked for
      }
    }
    return {
      status: res.status,
      reason: res.reason,
      grantedS: grantedS ?? (res.status < 300 ? requestedS : undefined),
      minExpiresS: num(res.headers.get('Min-Expires')),
      retryAfterS: num(res.headers.get('Retry-After')?.split(/[;(\s]/)[0]),
    };
  }
}

// A profile: one SIP account (registrar, proxy, credentials) and the driver of its registration
// machine (registration.ts). It builds REGISTER requests with the Contact the port manager gave
// the SIP socket, sends them through the UA (Digest retries happen there), and carries out the
// machine's actions with the injected clock. RFC 5626 outbound parameters (+sip.instance,
// reg-id, ob) go with every Contact; a registrar that does not support outbound ignores them.
import type { Clock, TimerHandle } from '../util/index.js';
import type { ServerLocator, SipTransport, Target } from '../sip/dns/index.js';
import {
  SipHeaders, formatNameAddr, formatUri, getContacts, getExpires, isSipUri, parseUri, uriEquals,
  type NameAddr, type SipRequest, type SipResponse, type SipUri,
} from '../sip/message/index.js';
import type { UserAgent } from '../sip/ua/index.js';
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
  readonly random?: () => number;
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
  private readonly machine: Registration;
  private readonly callId: string;
  private readonly fromTag: string;
  private cseq = 0;
  private timer: TimerHandle | undefined;
  private lastContact: NameAddr | undefined;
  private targets: Target[] = [];
  private stopped: (() => void) | undefined;
  private closed = false;

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
    return this.config.transport.toUpperCase() as SipTransport;
  }

  get state(): PublicRegistrationState {
    return this.machine.publicState;
  }

  get expiresS(): number {
    return this.machine.expiresS;
  }

  get contact(): string | undefined {
    return this.lastContact ? formatNameAddr(this.lastContact) : undefined;
  }

  /** Where out-of-dialog requests of this profile go: the proxy, else the registrar (RFC 3263). */
  async outboundTargets(): Promise<Target[]> {
    const uri = this.proxyUri ?? this.registrarUri;
    const targets = await this.deps.locator.locate({ host: uri.host, ...(uri.port !== undefined ? { port: uri.port } : {}), transport: this.transportName, secure: uri.scheme === 'sips' });
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
  stop(timeoutMs = 2000): Promise<void> {
    return new Promise<void>((resolve) => {
      const finish = (): void => {
        this.deps.clock.cancel(guard);
        this.deps.clock.cancel(this.timer);
        this.closed = true;
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
    let res: SipResponse;
    try {
      const targets = await this.outboundTargets();
      const t = targets[0];
      if (!t) throw new Error(`no address for ${formatUri(this.proxyUri ?? this.registrarUri)}`);
      const req = this.buildRegister(expiresS, removeOld);
      const creds = { username: this.config.authUser || this.config.user, password: this.config.password ?? '' };
      res = await this.deps.ua.request(req, { transport: t.transport, address: t.address, port: t.port, reliable: t.transport !== 'UDP', ...(t.transport === 'TLS' ? { serverName: t.hostName } : {}) }, { credentials: creds });
    } catch (err) {
      this.deps.onError(err, `REGISTER ${this.id}`);
      this.apply(this.machine.timeout(err instanceof Error ? err.message : String(err), this.deps.clock.now()));
      return;
    }
    this.apply(this.machine.response(this.readResponse(res, expiresS), this.deps.clock.now()));
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

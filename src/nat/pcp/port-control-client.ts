// The UDP driver for PCP (RFC 6887) and NAT-PMP (RFC 6886): one socket connected to the gateway's
// port 5351, requests retransmitted on the clock, answers matched to their request (PCP by nonce,
// protocol and internal port; NAT-PMP by opcode and internal port). PCP goes first; a server that
// answers UNSUPP_VERSION (or with a NAT-PMP header, RFC 6887 §9) is spoken to in NAT-PMP from then on.
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { SystemClock, type Clock, type TimerHandle } from '../../util/index.js';
import {
  NATPMP_OPCODE_EXTERNAL_ADDRESS, NATPMP_OPCODE_MAP, NATPMP_RESPONSE_BIT, NATPMP_VERSION, decodeNatPmpResponse,
  encodeNatPmpExternalAddressRequest, encodeNatPmpMapRequest, type NatPmpResponse,
} from './natpmp-codec.js';
import {
  IANA_PROTOCOL, PCP_MAX_MESSAGE_BYTES, PCP_NONCE_BYTES, PCP_OPCODE_MAP, PCP_RESULT_SUCCESS, PCP_SERVER_PORT, PCP_VERSION,
  decodePcpMapResponse, encodePcpMapRequest, isPcpMapResponse, type PcpProtocol,
} from './pcp-codec.js';
import { PortControlError, resultError, type PortControlProtocol } from './port-control-error.js';
import { NATPMP_RETRANSMISSION, PCP_RETRANSMISSION, Retransmission, type RetransmissionOptions } from './retransmission.js';

export interface PortControlClientOptions {
  /** The server: the default gateway (see readDefaultGateway). */
  readonly gateway: string;
  readonly port?: number;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Default: RFC 6887's schedule, but giving up after 20 s so map() answers. */
  readonly pcpRetransmission?: RetransmissionOptions;
  /** Default: RFC 6886's 250 ms doubling, 9 sends. */
  readonly natPmpRetransmission?: RetransmissionOptions;
  /** 'auto' tries PCP and falls back to NAT-PMP on UNSUPP_VERSION. */
  readonly protocol?: 'auto' | PortControlProtocol;
}

export interface PortControlMapRequest {
  readonly protocol: PcpProtocol;
  readonly internalPort: number;
  readonly suggestedExternalPort?: number;
  /** 0 deletes. */
  readonly lifetimeS: number;
  /** PCP: the mapping's nonce; renewals and deletion reuse it (RFC 6887 §11.2). Default: a new one. */
  readonly nonce?: Uint8Array;
}

export interface PortControlMapResult {
  readonly via: PortControlProtocol;
  readonly protocol: PcpProtocol;
  readonly internalPort: number;
  readonly externalPort: number;
  readonly externalAddress: string;
  readonly lifetimeS: number;
  readonly epochS: number;
  /** Our clock when the answer came (for the epoch check). */
  readonly receivedAtMs: number;
  /** PCP only. */
  readonly nonce?: Uint8Array;
}

/** What the mapper needs from a client; PortControlClient is the real one. */
export interface PortControlTransport {
  map(req: PortControlMapRequest): Promise<PortControlMapResult>;
  close(): void;
}

interface Pending {
  /** Looks at a datagram; returns true when it settled this request. */
  handle(bytes: Uint8Array): boolean;
  fail(err: PortControlError): void;
}

const DEFAULT_PCP: RetransmissionOptions = { ...PCP_RETRANSMISSION, maxDurationMs: 20_000 };

export class PortControlClient implements PortControlTransport {
  private readonly clock: Clock;
  private readonly pending = new Set<Pending>();
  private socket: Promise<Socket> | undefined;
  private learned: PortControlProtocol | undefined;
  private closed = false;

  constructor(private readonly o: PortControlClientOptions) {
    this.clock = o.clock ?? new SystemClock();
    if (o.protocol && o.protocol !== 'auto') this.learned = o.protocol;
  }

  /** The protocol the server speaks, once an answer told us. */
  get protocol(): PortControlProtocol | undefined {
    return this.learned;
  }

  async map(req: PortControlMapRequest): Promise<PortControlMapResult> {
    if (this.learned === 'natpmp') return this.mapNatPmp(req);
    try {
      const r = await this.mapPcp(req);
      this.learned = 'pcp';
      return r;
    } catch (err) {
      if (!(err instanceof PortControlError && err.code === 'UNSUPP_VERSION') || this.o.protocol === 'pcp') throw err;
      this.learned = 'natpmp';
      return this.mapNatPmp(req);
    }
  }

  /** NAT-PMP's external address request (RFC 6886 §3.2). */
  async externalAddress(): Promise<{ address: string; epochS: number }> {
    const r = await this.natPmpRequest(encodeNatPmpExternalAddressRequest(), NATPMP_OPCODE_EXTERNAL_ADDRESS, undefined);
    if (r.kind !== 'external-address') throw new PortControlError('malformed', 'NAT-PMP: no external address in the answer', { protocol: 'natpmp' });
    return { address: r.externalAddress, epochS: r.epochS };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of [...this.pending]) p.fail(new PortControlError('closed', 'port control client closed'));
    void this.socket?.then((s) => s.close(), () => {});
  }

  private async mapPcp(req: PortControlMapRequest): Promise<PortControlMapResult> {
    const socket = await this.open();
    const nonce = req.nonce ?? Uint8Array.from(randomBytes(PCP_NONCE_BYTES));
    const bytes = encodePcpMapRequest({
      lifetimeS: req.lifetimeS,
      clientAddress: socket.address().address,
      nonce,
      protocol: req.protocol,
      internalPort: req.internalPort,
      suggestedExternalPort: req.lifetimeS === 0 ? 0 : (req.suggestedExternalPort ?? req.internalPort),
    });
    return this.exchange<PortControlMapResult>(bytes, this.o.pcpRetransmission ?? DEFAULT_PCP, (answer, resolve, reject) => {
      if (answer[0] === NATPMP_VERSION) {
        // A NAT-PMP-only server answers our version 2 with its own header and UNSUPP_VERSION.
        try {
          const r = decodeNatPmpResponse(answer);
          if (r.opcode !== NATPMP_RESPONSE_BIT + PCP_OPCODE_MAP || r.kind !== 'error') return false;
          reject(resultError('natpmp', r.resultCode));
          return true;
        } catch {
          return false;
        }
      }
      let r: ReturnType<typeof decodePcpMapResponse>;
      try {
        r = decodePcpMapResponse(answer);
      } catch {
        return false; // RFC 6887 §8.3: malformed responses are silently dropped
      }
      if (r.version !== PCP_VERSION || !isPcpMapResponse(r)) {
        if (r.resultCode === PCP_RESULT_SUCCESS) return false;
        reject(resultError('pcp', r.resultCode, r.lifetimeS));
        return true;
      }
      if (!Buffer.from(r.nonce).equals(Buffer.from(nonce)) || r.protocol !== IANA_PROTOCOL[req.protocol] || r.internalPort !== req.internalPort) return false;
      if (r.resultCode !== PCP_RESULT_SUCCESS) reject(resultError('pcp', r.resultCode, r.lifetimeS));
      else {
        resolve({
          via: 'pcp', protocol: req.protocol, internalPort: r.internalPort, externalPort: r.assignedExternalPort,
          externalAddress: r.assignedExternalAddress, lifetimeS: r.lifetimeS, epochS: r.epochS, receivedAtMs: this.clock.now(), nonce,
        });
      }
      return true;
    });
  }

  private async mapNatPmp(req: PortControlMapRequest): Promise<PortControlMapResult> {
    const bytes = encodeNatPmpMapRequest({
      protocol: req.protocol, internalPort: req.internalPort, suggestedExternalPort: req.suggestedExternalPort ?? req.internalPort, lifetimeS: req.lifetimeS,
    });
    const r = await this.natPmpRequest(bytes, NATPMP_OPCODE_MAP[req.protocol], req.internalPort);
    if (r.kind !== 'map') throw new PortControlError('malformed', 'NAT-PMP: not a mapping answer', { protocol: 'natpmp' });
    const receivedAtMs = this.clock.now();
    const externalAddress = req.lifetimeS === 0 ? '' : (await this.externalAddress()).address;
    return {
      via: 'natpmp', protocol: req.protocol, internalPort: r.internalPort, externalPort: r.externalPort,
      externalAddress, lifetimeS: r.lifetimeS, epochS: r.epochS, receivedAtMs,
    };
  }

  private natPmpRequest(bytes: Uint8Array, opcode: number, internalPort: number | undefined): Promise<NatPmpResponse> {
    return this.exchange<NatPmpResponse>(bytes, this.o.natPmpRetransmission ?? NATPMP_RETRANSMISSION, (answer, resolve, reject) => {
      let r: NatPmpResponse;
      try {
        r = decodeNatPmpResponse(answer);
      } catch {
        return false;
      }
      if (r.opcode !== NATPMP_RESPONSE_BIT + opcode) return false;
      if (r.kind === 'error') reject(resultError('natpmp', r.resultCode));
      else if (r.kind === 'map' && r.internalPort !== internalPort) return false;
      else resolve(r);
      return true;
    });
  }

  /** Sends `bytes` on the retransmission schedule until `accept` settles the request or it gives up. */
  private async exchange<T>(
    bytes: Uint8Array,
    schedule: RetransmissionOptions,
    accept: (answer: Uint8Array, resolve: (v: T) => void, reject: (e: PortControlError) => void) => boolean,
  ): Promise<T> {
    const socket = await this.open();
    return new Promise<T>((resolve, reject) => {
      const rt = new Retransmission(schedule, this.o.random);
      let timer: TimerHandle | undefined;
      const done = (): void => {
        this.clock.cancel(timer);
        this.pending.delete(p);
      };
      const p: Pending = {
        handle: (answer) => accept(answer, (v) => (done(), resolve(v)), (e) => (done(), reject(e))),
        fail: (e) => (done(), reject(e)),
      };
      const step = (s: ReturnType<Retransmission['start']>): void => {
        if (s.kind === 'give-up') return p.fail(new PortControlError('timeout', `no answer from ${this.o.gateway} after ${rt.sendCount} sends`));
        socket.send(bytes, (err) => err && p.fail(new PortControlError('network', `send failed: ${err.message}`, {}, { cause: err })));
        timer = this.clock.setTimer(s.wakeAtMs - this.clock.now(), () => step(rt.wake(this.clock.now())));
      };
      this.pending.add(p);
      step(rt.start(this.clock.now()));
    });
  }

  private open(): Promise<Socket> {
    if (this.closed) return Promise.reject(new PortControlError('closed', 'port control client closed'));
    this.socket ??= new Promise<Socket>((resolve, reject) => {
      const s = createSocket(this.o.gateway.includes(':') ? 'udp6' : 'udp4');
      s.on('message', (answer) => {
        if (answer.length > PCP_MAX_MESSAGE_BYTES) return;
        for (const p of [...this.pending]) p.handle(answer);
      });
      let connected = false;
      s.on('error', (err) => {
        if (!connected) reject(new PortControlError('network', `cannot reach ${this.o.gateway}: ${err.message}`, {}, { cause: err }));
        // ICMP port unreachable on the connected socket: nothing listens on 5351.
        for (const p of [...this.pending]) p.fail(new PortControlError('network', `${this.o.gateway}: ${err.message}`, {}, { cause: err }));
      });
      s.once('connect', () => {
        connected = true;
        resolve(s);
      });
      try {
        s.connect(this.o.port ?? PCP_SERVER_PORT, this.o.gateway);
      } catch (err) {
        reject(new PortControlError('network', `cannot reach ${this.o.gateway}`, {}, { cause: err }));
      }
    });
    return this.socket;
  }
}

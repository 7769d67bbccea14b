// The I/O half of NAT behaviour discovery: local UDP ports that run one STUN Binding test at a
// time and report its outcome in the decision module's terms. Discovery takes a NatProbeNetwork,
// so unit tests can put a simulated NAT behind it; UdpProbeNetwork is the real one.
import { createSocket, type Socket } from 'node:dgram';
import type { Clock } from '../util/index.js';
import { StunClient, StunError, type StunAddress } from './stun/index.js';
import type { ProbeOutcome, TransportAddress } from './nat-behaviour-decision.js';
import { NatDiscoveryError } from './nat-discovery-error.js';

export interface ChangeRequest {
  readonly changeIp?: boolean;
  readonly changePort?: boolean;
}

/** One local UDP port, owned by whoever opened it. */
export interface NatProbePort {
  /** Source IP and port of this port's datagrams (a real IP, never the wildcard). */
  readonly local: TransportAddress;
  binding(server: TransportAddress, change?: ChangeRequest): Promise<ProbeOutcome>;
  /**
   * RFC 5780 §4.6: from a second, fresh port, asks `server` (RFC 5780 §7.5 RESPONSE-PORT) to answer
   * at `mappedPort` of the public address. True when the answer reaches this port, false when it
   * does not come; NatDiscoveryError 'bad-server' when it comes back to the sender instead.
   */
  answeredViaResponsePort(server: TransportAddress, mappedPort: number): Promise<boolean>;
  close(): void;
}

export interface NatProbeNetwork {
  /** Opens a fresh local port for tests towards `server`. */
  open(server: TransportAddress): Promise<NatProbePort>;
}

export interface UdpProbeNetworkOptions {
  /** Local IP to bind (default: any; the source IP is then learnt from the routing table). */
  readonly bindAddress?: string;
  readonly clock?: Clock;
  /** RFC 8489 §6.2.1 retransmission parameters for every test. */
  readonly rtoMs: number;
  readonly rc: number;
  readonly rm: number;
  readonly software?: string;
}

const plain = (a: StunAddress | { address: string; port: number }): TransportAddress => ({ address: a.address, port: a.port });

function bindSocket(bindAddress: string | undefined): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, bindAddress, () => {
      s.off('error', reject);
      // ICMP-driven errors after bind must not crash the process: the test times out instead.
      s.on('error', () => {});
      resolve(s);
    });
  });
}

/** The source IP the kernel picks towards `server`: a connected UDP socket sends nothing. */
function sourceIpTowards(server: TransportAddress): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.on('error', () => {
      s.close();
      resolve(undefined);
    });
    s.connect(server.port, server.address, () => {
      const ip = s.address().address;
      s.close();
      resolve(ip);
    });
  });
}

class UdpProbePort implements NatProbePort {
  private readonly client: StunClient;
  /** Clients of RESPONSE-PORT probes whose answers arrive on this port. */
  private readonly borrowers = new Set<StunClient>();

  constructor(
    private readonly socket: Socket,
    readonly local: TransportAddress,
    private readonly options: UdpProbeNetworkOptions,
  ) {
    this.client = this.newClient(socket);
    socket.on('message', (bytes, rinfo) => {
      if (this.client.handle(bytes, rinfo)) return;
      for (const b of this.borrowers) if (b.handle(bytes, rinfo)) return;
    });
  }

  async binding(server: TransportAddress, change: ChangeRequest = {}): Promise<ProbeOutcome> {
    try {
      const r = await this.client.binding(server, change);
      return {
        kind: 'answer', mapped: plain(r.mappedAddress), source: plain(r.source), otherAddress: r.otherAddress && plain(r.otherAddress),
      };
    } catch (err) {
      if (!(err instanceof StunError)) throw err;
      return err.code === 'timeout' ? { kind: 'timeout' } : { kind: 'error', reason: err.message };
    }
  }

  async answeredViaResponsePort(server: TransportAddress, mappedPort: number): Promise<boolean> {
    const sender = await bindSocket(this.options.bindAddress);
    const client = this.newClient(sender);
    let cameBack = false;
    sender.on('message', (bytes, rinfo) => {
      if (client.handle(bytes, rinfo)) cameBack = true;
    });
    this.borrowers.add(client);
    try {
      await client.binding(server, { responsePort: mappedPort });
      if (cameBack) throw new NatDiscoveryError('bad-server', `${server.address}:${server.port} ignored RESPONSE-PORT`);
      return true;
    } catch (err) {
      if (err instanceof StunError && err.code === 'timeout') return false;
      throw err;
    } finally {
      this.borrowers.delete(client);
      client.close();
      sender.close();
    }
  }

  close(): void {
    this.client.close();
    this.socket.close();
  }

  private newClient(socket: Socket): StunClient {
    const o = this.options;
    return new StunClient({
      socket, rtoMs: o.rtoMs, rc: o.rc, rm: o.rm, ...(o.clock ? { clock: o.clock } : {}), ...(o.software !== undefined ? { software: o.software } : {}),
    });
  }
}

/** Real UDP sockets (IPv4) and StunClient transactions. */
export class UdpProbeNetwork implements NatProbeNetwork {
  constructor(private readonly options: UdpProbeNetworkOptions) {}

  async open(server: TransportAddress): Promise<NatProbePort> {
    const socket = await bindSocket(this.options.bindAddress);
    const bound = socket.address();
    const ip = bound.address === '0.0.0.0' ? ((await sourceIpTowards(server)) ?? bound.address) : bound.address;
    return new UdpProbePort(socket, { address: ip, port: bound.port }, this.options);
  }
}

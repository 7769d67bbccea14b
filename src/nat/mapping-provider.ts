// What a NAT traversal provider offers the port manager, and the two simplest ones: static
// forwards the admin set up by hand, and STUN (the address the server saw, RFC 8489), which is
// only right for endpoint-independent mapping (cone NATs, RFC 4787 §4.1).
import { StunClient, StunError } from './stun/index.js';
import type { MappingRequest, PortMapping, SocketKind, TransportAddress } from './port-manager.js';
import type { Clock } from '../util/index.js';

export interface MappingProvider {
  readonly name: PortMapping['via'];
  /** A mapping for the socket, or undefined when this provider cannot give one. */
  map(req: MappingRequest): Promise<PortMapping | undefined>;
  release(kind: SocketKind, local: TransportAddress): Promise<void>;
  close(): Promise<void>;
}

export interface StaticSettings {
  readonly publicAddress: string;
  /** 0: the same as the local port. */
  readonly sipPort: number;
  /** First public RTP port of the forwarded range (0: the same as the local ports). */
  readonly rtpPortMin: number;
  /** First local RTP port (the registry's rtp.portMin), to offset into the forwarded range. */
  readonly localRtpPortMin: number;
}

/** Ports forwarded by hand on the router (nat.static* keys). */
export class StaticProvider implements MappingProvider {
  readonly name = 'static' as const;

  constructor(private readonly settings: () => StaticSettings) {}

  map(req: MappingRequest): Promise<PortMapping | undefined> {
    const s = this.settings();
    if (!s.publicAddress) return Promise.resolve(undefined);
    let port = req.local.port;
    if (req.kind === 'sip' && s.sipPort > 0) port = s.sipPort;
    if (req.kind !== 'sip' && s.rtpPortMin > 0) port = s.rtpPortMin + (req.local.port - s.localRtpPortMin);
    if (port < 1 || port > 65535) return Promise.resolve(undefined);
    return Promise.resolve({ address: s.publicAddress, port, via: 'static' });
  }

  release(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The reflexive address of a socket, asked of the STUN server from that socket. */
export class StunProvider implements MappingProvider {
  readonly name = 'stun' as const;

  constructor(
    private readonly server: () => Promise<TransportAddress | undefined>,
    private readonly clock: Clock,
    private readonly timing: { rtoMs: number; rc: number } = { rtoMs: 250, rc: 4 },
  ) {}

  async map(req: MappingRequest): Promise<PortMapping | undefined> {
    const channel = req.channel;
    const server = await this.server();
    if (!channel || !server) return undefined;
    const client = new StunClient({ socket: channel.socket, clock: this.clock, rtoMs: this.timing.rtoMs, rc: this.timing.rc });
    const off = channel.subscribe((bytes, from) => client.handle(bytes, from));
    try {
      const r = await client.binding(server);
      return { address: r.mappedAddress.address, port: r.mappedAddress.port, via: 'stun' };
    } catch (err) {
      if (err instanceof StunError) return undefined; // no answer: UDP blocked or no server
      throw err;
    } finally {
      off();
      client.close();
    }
  }

  release(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

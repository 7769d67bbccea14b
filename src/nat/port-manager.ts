// The port manager, modelled on the RTC client's: for each local socket and its type it answers
// which address and port to advertise (SIP Contact/Via, SDP c=/m=/a=rtcp), hears when the remote
// end's address changes, and takes mappings back. It is the one source of truth for every
// advertised address (DESIGN.md); SIP and SDP code never pick an address themselves.
// Scopes follow the original: a profile pins its SIP port, a session its media ports.

import type { StunSocket } from './stun/index.js';

export type SocketKind = 'sip' | 'rtp' | 'rtcp';

/** How a provider talks from the socket being mapped (STUN must leave from that very socket). */
export interface SocketChannel {
  readonly socket: StunSocket;
  /** Hears datagrams on the socket that its owner does not consume; returns the unsubscribe. */
  subscribe(handler: (bytes: Uint8Array, from: TransportAddress) => boolean): () => void;
}

export interface TransportAddress {
  readonly address: string;
  readonly port: number;
}

export interface PortMapping extends TransportAddress {
  /** Which provider answered: the local address itself, a static forward, UPnP, PCP, STUN, TURN. */
  readonly via: 'local' | 'static' | 'upnp' | 'pcp' | 'stun' | 'turn';
}

export interface MappingRequest {
  readonly kind: SocketKind;
  /** The socket's own address and port. */
  readonly local: TransportAddress;
  /** Where traffic from this socket goes, when known (the registrar, the far end's media). */
  readonly remote?: TransportAddress;
  /** 'profile' for a SIP socket an account keeps, 'session' for a call's media sockets. */
  readonly scope: 'profile' | 'session';
  /** Lets providers such as STUN send from this socket and hear the answers. */
  readonly channel?: SocketChannel;
}

export interface PortManager {
  getMapping(req: MappingRequest): Promise<PortMapping>;
  /** The far end moved (latching, a re-INVITE, a new registrar address). */
  updateRemoteAddress(kind: SocketKind, local: TransportAddress, remote: TransportAddress): void;
  releaseMapping(kind: SocketKind, local: TransportAddress): Promise<void>;
  close(): Promise<void>;
}

/**
 * The built-in manager with no NAT provider: advertise the socket's own address. A socket
 * bound to the wildcard address advertises the interface address the daemon found.
 */
export class LocalPortManager implements PortManager {
  constructor(private readonly wildcardAddress: () => string) {}

  getMapping(req: MappingRequest): Promise<PortMapping> {
    const address = req.local.address === '0.0.0.0' || req.local.address === '::' ? this.wildcardAddress() : req.local.address;
    return Promise.resolve({ address, port: req.local.port, via: 'local' });
  }

  updateRemoteAddress(): void {}

  releaseMapping(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

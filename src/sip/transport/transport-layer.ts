// SIP transports (RFC 3261 §18): UDP (IPv4 and IPv6, one socket per family shared with STUN),
// TCP and TLS with connection reuse. Incoming requests get received/rport (§18.2.1, RFC 3581);
// responses go where §18.2.2 says; unparseable input is answered 400 or dropped, never fatal.
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect as tcpConnect, isIP, type Server, type Socket } from 'node:net';
import { checkServerIdentity as tlsCheckServerIdentity, connect as tlsConnect, createServer as createTlsServer, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { Clock } from '../../util/clock.js';
import {
  SipParseError, DEFAULT_LIMITS, checkResponse, makeResponse, parseMessage, serializeMessage, topVia, type FramedItem, type ParseLimits,
  type SipMessage, type SipRequest, type SipResponse,
} from '../message/index.js';
import { StreamConnection } from './stream-connection.js';
import { TransportError, type Destination, type Endpoint, type TransportName } from './transport-types.js';
import { responseDestination, stampReceived } from './via-rules.js';

export interface Incoming {
  readonly message: SipMessage;
  /** The peer as the transaction layer should address it. */
  readonly source: Destination;
  readonly local: Endpoint;
}

export interface TransportOptions {
  readonly clock: Clock;
  /** Local addresses to listen on (IPv4 and/or IPv6); '0.0.0.0' / '::' for all. */
  readonly addresses: readonly string[];
  /** 0 picks a free port (tests); UDP and TCP share the number, TLS listens on its own port. */
  readonly port: number;
  readonly transports: readonly TransportName[];
  readonly tls?: { key: string | Buffer; cert: string | Buffer; port: number; ca?: string | Buffer; rejectUnauthorized: boolean };
  /** Largest message on a stream (registry sip.maxStreamMessageBytes). */
  readonly maxStreamMessageBytes?: number;
  readonly idleTimeoutMs?: number;
  readonly maxConnections?: number;
  readonly onMessage: (incoming: Incoming) => void;
  /** RFC 7983 demultiplexing: STUN (first byte 0-3) on the SIP UDP socket (RFC 5626 keepalives). */
  readonly onNonSip?: (bytes: Buffer, source: Endpoint, local: Endpoint) => void;
  /** Per-source admission (rate limit); a refused request gets 503 + Retry-After, or is dropped. */
  readonly admit?: (source: Endpoint) => { ok: true } | { ok: false; retryAfterS?: number };
  readonly onError?: (err: unknown, context: string) => void;
}

const UDP_LIMITS: ParseLimits = { ...DEFAULT_LIMITS, maxBytes: 65_535 };
const UDP_RECV_BUFFER_BYTES = 2 * 1024 * 1024;

function family(address: string): 4 | 6 {
  return isIP(address) === 6 ? 6 : 4;
}

export class TransportLayer {
  private readonly udp = new Map<4 | 6, UdpSocket>();
  private readonly servers: Server[] = [];
  private readonly connections = new Map<string, StreamConnection>();
  /** remote "transport|address|port" → connection id, for reuse (outbound and inbound alike). */
  private readonly byRemote = new Map<string, string>();
  private nextConnId = 1;
  private boundPort = 0;
  private tlsPort = 0;
  private closed = false;

  constructor(private readonly options: TransportOptions) {}

  /** The UDP/TCP port actually bound. */
  get port(): number {
    return this.boundPort;
  }

  get tlsListeningPort(): number {
    return this.tlsPort;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Binds every transport on every address. With port 0 the kernel picks the UDP port and TCP
   * (and the other address family) must then get the same number, which another process may
   * already hold for TCP: then everything bound is released and a new number picked. A start
   * that fails leaves nothing bound (an orphaned socket would keep the process alive).
   */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.bindAll();
        return;
      } catch (err) {
        for (const c of [...this.connections.values()]) c.close();
        await this.releaseListeners();
        if (!(err instanceof PickedPortTaken) || attempt >= PICK_PORT_ATTEMPTS) throw err instanceof PickedPortTaken ? err.bindError : err;
      }
    }
  }

  private async bindAll(): Promise<void> {
    let port = this.options.port;
    // A port is "picked" once the kernel chose it for an earlier socket of this start.
    const picked = (p: number, configured: number): boolean => configured === 0 && p !== 0;
    for (const address of this.options.addresses) {
      if (this.options.transports.includes('UDP')) {
        // A larger receive buffer rides out bursts and GC pauses instead of dropping requests
        // (the kernel caps it at net.core.rmem_max).
        const sock = createSocket({ type: family(address) === 6 ? 'udp6' : 'udp4', ipv6Only: family(address) === 6, recvBufferSize: UDP_RECV_BUFFER_BYTES });
        this.udp.set(family(address), sock);
        await claim(picked(port, this.options.port), new Promise<void>((resolve, reject) => {
          sock.once('error', reject);
          sock.bind(port, address, () => {
            sock.off('error', reject);
            resolve();
          });
        }));
        port = sock.address().port;
        // getsockname() once, not for every datagram.
        const bound = sock.address();
        const local = { address: bound.address, port: bound.port };
        sock.on('message', (bytes, rinfo) => this.onDatagram(local, bytes, rinfo));
        sock.on('error', (err) => this.options.onError?.(err, 'udp socket'));
      }
      if (this.options.transports.includes('TCP')) {
        const server = createServer((s) => this.adopt(s, 'TCP'));
        await claim(picked(port, this.options.port), this.listen(server, port, address));
        port = (server.address() as { port: number }).port;
      }
      if (this.options.transports.includes('TLS') && this.options.tls) {
        const t = this.options.tls;
        const server = createTlsServer({ key: t.key, cert: t.cert }, (s) => this.adopt(s, 'TLS'));
        await claim(picked(this.tlsPort, t.port), this.listen(server, this.tlsPort || t.port, address));
        this.tlsPort = (server.address() as { port: number }).port;
      }
    }
    this.boundPort = port;
  }

  private listen(server: Server, port: number, address: string): Promise<void> {
    server.maxConnections = this.options.maxConnections ?? 256;
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, () => {
        server.off('error', reject);
        server.on('error', (err) => this.options.onError?.(err, 'stream server'));
        resolve();
      });
    });
  }

  /** Closes the UDP sockets and listening servers (accepted connections are closed apart). */
  private async releaseListeners(): Promise<void> {
    for (const s of this.udp.values()) {
      try {
        s.close();
      } catch {
        // never bound, or already closed
      }
    }
    this.udp.clear();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.servers.length = 0;
    this.tlsPort = 0;
  }

  /** UDP socket of a family, for sharing with STUN keepalives. */
  udpSocket(fam: 4 | 6 = 4): UdpSocket | undefined {
    return this.udp.get(fam);
  }

  private onDatagram(local: Endpoint, bytes: Buffer, rinfo: RemoteInfo): void {
    const source: Destination = { transport: 'UDP', address: rinfo.address, port: rinfo.port, reliable: false };
    const first = bytes[0];
    if (first === undefined) return;
    if (first <= 3) {
      this.options.onNonSip?.(bytes, source, local);
      return;
    }
    // A CRLF keepalive on UDP (some phones send them): nothing to do.
    if (bytes.length <= 4 && bytes.every((b) => b === 0x0d || b === 0x0a)) return;
    let message: SipMessage;
    try {
      message = parseMessage(bytes, UDP_LIMITS);
    } catch (err) {
      this.rejectUnparseable(err, source);
      return;
    }
    this.deliver(message, source, local);
  }

  private deliver(message: SipMessage, source: Destination, local: Endpoint): void {
    if (message.kind === 'response') {
      // RFC 4475 §3.1.2.5: a response whose mandatory headers do not parse is dropped.
      if (checkResponse(message) !== undefined) return;
    } else {
      try {
        topVia(message);
      } catch {
        return; // no usable Via: nowhere to answer
      }
      const admission = this.options.admit?.(source);
      if (admission && !admission.ok) {
        if (admission.retryAfterS !== undefined && message.method !== 'ACK') {
          const res = makeResponse(message, 503);
          res.headers.set('Retry-After', String(admission.retryAfterS));
          void this.sendResponse(res, source).catch(() => {});
        }
        return;
      }
      stampReceived(message, source);
    }
    try {
      this.options.onMessage({ message, source, local });
    } catch (err) {
      this.options.onError?.(err, 'message handler');
    }
  }

  /** §18.3 / RFC 4475: answer a malformed request statelessly when we can read where to. */
  private rejectUnparseable(err: unknown, source: Destination): void {
    if (!(err instanceof SipParseError)) {
      this.options.onError?.(err, 'parser');
      return;
    }
    const partial = err.partial;
    if (!partial || partial.kind !== 'request' || partial.method === 'ACK' || !err.status) return;
    try {
      topVia(partial);
      const res = makeResponse(partial, err.status);
      void this.sendResponse(res, source).catch(() => {});
    } catch {
      // not even a Via: drop
    }
  }

  private adopt(socket: Socket | TLSSocket, transport: 'TCP' | 'TLS', remoteOverride?: Endpoint): StreamConnection {
    const id = `${transport}-${this.nextConnId++}`;
    const remote = remoteOverride ?? { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const conn = new StreamConnection(id, transport, socket, remote, this.options.clock, this.options.idleTimeoutMs ?? 300_000,
      { maxBytes: this.options.maxStreamMessageBytes ?? 65_535 }, {
        onItem: (c, item) => this.onStreamItem(c, item),
        onClose: (c) => {
          this.connections.delete(c.id);
          const key = remoteKey(c.transport, c.remote);
          if (this.byRemote.get(key) === c.id) this.byRemote.delete(key);
        },
      });
    this.connections.set(id, conn);
    this.byRemote.set(remoteKey(transport, remote), id);
    return conn;
  }

  private onStreamItem(conn: StreamConnection, item: FramedItem): void {
    const source: Destination = { transport: conn.transport, address: conn.remote.address, port: conn.remote.port, reliable: true, connectionId: conn.id };
    const local = { address: conn.socket.localAddress ?? '', port: conn.socket.localPort ?? 0 };
    if (item.kind === 'invalid') {
      this.rejectUnparseable(item.error, source);
      return;
    }
    if (item.kind === 'keepalive') return;
    this.deliver(item, source, local);
  }

  /**
   * Sends a request or response. Responses are routed by their top Via (§18.2.2). Not an async
   * function: a UDP send is one promise, not a chain of them (this runs for every answer).
   */
  send(msg: SipRequest | SipResponse, peer: Destination): Promise<void> {
    try {
      if (this.closed) throw new TransportError('closed', 'transport layer closed');
      if (msg.kind === 'response') return this.sendResponse(msg, peer);
      return this.sendTo(serializeMessage(msg), peer);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** A response serialised once, with where it goes (§18.2.2), for cheap retransmissions. */
  freezeResponse(res: SipResponse, arrival: Destination): { bytes: Buffer; dest: Destination } {
    return { bytes: serializeMessage(res), dest: responseDestination(topVia(res), arrival) };
  }

  /** Sends bytes already serialised (a retransmission of a response kept compact). */
  sendBytes(bytes: Buffer, dest: { transport: string; address: string; port: number }): Promise<void> {
    return this.sendTo(bytes, { transport: dest.transport, address: dest.address, port: dest.port, reliable: dest.transport.toUpperCase() !== 'UDP' });
  }

  private sendResponse(res: SipResponse, arrival: Destination): Promise<void> {
    let dest: Destination;
    let bytes: Buffer;
    try {
      dest = responseDestination(topVia(res), arrival);
      bytes = serializeMessage(res);
    } catch (err) {
      return Promise.reject(err);
    }
    if (dest.connectionId !== undefined) {
      const conn = this.connections.get(dest.connectionId);
      if (conn?.isOpen) return conn.write(bytes);
      // §18.2.2: the connection is gone: open a new one to received/sent-by.
      const via = topVia(res);
      const rport = via.params.get('rport');
      return this.sendTo(bytes, {
        transport: dest.transport,
        reliable: true,
        address: via.params.get('received') ?? arrival.address,
        port: rport && /^\d{1,5}$/.test(rport) ? Number(rport) : via.port ?? 5060,
      });
    }
    return this.sendTo(bytes, dest);
  }

  /** Rejects rather than throws, like the async function it replaces. */
  private sendTo(bytes: Buffer, dest: Destination): Promise<void> {
    const transport = dest.transport === 'UDP' ? 'UDP' : dest.transport.toUpperCase();
    if (transport === 'UDP') {
      const sock = this.udp.get(family(dest.address));
      if (!sock) return Promise.reject(new TransportError('unsupported', `no UDP socket for IPv${family(dest.address)}`));
      if (bytes.length > 65_507) return Promise.reject(new TransportError('send-failed', 'message too large for UDP'));
      return new Promise<void>((resolve, reject) => sock.send(bytes, dest.port, dest.address, (err) => (err ? reject(err) : resolve())));
    }
    if (transport !== 'TCP' && transport !== 'TLS') return Promise.reject(new TransportError('unsupported', `transport ${dest.transport} not supported`));
    return this.connectionTo(transport, dest).then((conn) => conn.write(bytes));
  }

  private async connectionTo(transport: 'TCP' | 'TLS', dest: Destination): Promise<StreamConnection> {
    if (dest.connectionId !== undefined) {
      const c = this.connections.get(dest.connectionId);
      if (c?.isOpen) return c;
    }
    const existing = this.byRemote.get(remoteKey(transport, dest));
    const reuse = existing === undefined ? undefined : this.connections.get(existing);
    if (reuse?.isOpen) return reuse;
    if (this.connections.size >= (this.options.maxConnections ?? 256)) throw new TransportError('too-many-connections', 'connection limit reached');
    const socket = await new Promise<Socket>((resolve, reject) => {
      const onError = (err: Error): void => reject(new TransportError('connect-failed', `${transport} connect to ${dest.address}:${dest.port} failed: ${err.message}`));
      const s: Socket = transport === 'TLS'
        ? tlsConnect({
            host: dest.address,
            port: dest.port,
            ...(dest.serverName !== undefined && isIP(dest.serverName) === 0 ? { servername: dest.serverName } : {}),
            rejectUnauthorized: this.options.tls?.rejectUnauthorized ?? true,
            ...(this.options.tls?.ca !== undefined ? { ca: this.options.tls.ca } : {}),
            ...(dest.serverName !== undefined ? { checkServerIdentity: checkIdentity(dest.serverName) } : {}),
          }, () => resolve(s))
        : tcpConnect({ host: dest.address, port: dest.port }, () => resolve(s));
      s.once('error', onError);
      s.setTimeout(10_000, () => s.destroy(new Error('connect timeout')));
      s.once(transport === 'TLS' ? 'secureConnect' : 'connect', () => {
        s.off('error', onError);
        s.setTimeout(0);
      });
    });
    return this.adopt(socket, transport, { address: dest.address, port: dest.port });
  }

  /** RFC 5626 §4.4.1 keepalive on the stream to a peer. */
  async ping(dest: Destination, timeoutMs = 10_000): Promise<void> {
    const transport = dest.transport.toUpperCase();
    if (transport !== 'TCP' && transport !== 'TLS') throw new TransportError('unsupported', 'CRLF keepalives are for streams');
    const conn = await this.connectionTo(transport, dest);
    await conn.ping(timeoutMs);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of [...this.connections.values()]) c.close();
    await this.releaseListeners();
  }
}

/** Tries of a fresh port number when port 0 must serve UDP and TCP alike. */
const PICK_PORT_ATTEMPTS = 20;

/** A port the kernel picked for one socket of this start turned out taken for another. */
class PickedPortTaken extends Error {
  constructor(readonly bindError: Error) {
    super(bindError.message);
  }
}

function claim(picked: boolean, binding: Promise<void>): Promise<void> {
  return binding.catch((err: unknown) => {
    throw picked && (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? new PickedPortTaken(err as Error) : err;
  });
}

function remoteKey(transport: string, remote: Endpoint): string {
  return `${transport}|${remote.address}|${remote.port}`;
}

function checkIdentity(serverName: string): (host: string, cert: PeerCertificate) => Error | undefined {
  // Verify the certificate against the SIP domain we meant, not the address we connected to.
  return (_host, cert) => tlsCheckServerIdentity(serverName, cert);
}

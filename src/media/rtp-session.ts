// The RTP driver of one media stream: it owns one UDP socket and sends from the socket it
// receives on (RFC 4961 symmetric RTP), with RTCP multiplexed on the same port (RFC 5761).
// The decisions live in pure pieces — RtpPacketizer (what to send), RtpLatch (where to send,
// whom to believe), RtpReceptionStats (RFC 3550 A.1/A.8) — and this file only wires them to
// the socket, the clock and the events.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import { SystemClock, TypedEmitter, errorMessage, type Clock } from '../util/index.js';
import { parseRtcp, RtcpError, type RtcpPacket } from './rtcp-packet.js';
import { RtpLatch, sameTransportAddress, type TransportAddress } from './rtp-latch.js';
import { decodeRtp, isRtcp, RtpError, type RtpPacket } from './rtp-packet.js';
import { RtpPacketizer, randomStreamStart, type RtpStreamStart } from './rtp-packetizer.js';
import { RtpReceptionStats } from './rtp-reception-stats.js';

export interface RtpSessionOptions {
  /** Local address to bind; its family picks udp4 or udp6. */
  readonly localAddress: string;
  /** Local port; 0 lets the system choose (see `local` after open). */
  readonly localPort: number;
  /** The peer's connection address and port from its SDP. */
  readonly remote: TransportAddress;
  /**
   * The peer's RTCP address (RFC 3605 a=rtcp, else RTP port + 1) when rtcp-mux was not
   * negotiated; undefined: RTCP goes where RTP goes (RFC 5761).
   */
  readonly remoteRtcp?: TransportAddress;
  /** Payload types negotiated for this stream; packets with others are rejected. */
  readonly payloadTypes: readonly number[];
  /** Payload type of the packets we send; default the first negotiated one. */
  readonly sendPayloadType?: number;
  /** RTP clock rate, for the jitter in ms; default 8000 (G.711). */
  readonly clockRateHz?: number;
  /** Consecutive qualifying packets from a new source before the target moves there; default 5. */
  readonly packetsToSwitch?: number;
  /** Arrival times for the jitter estimate; default the system clock. */
  readonly clock?: Clock;
  /** SSRC, first sequence number and timestamp; default random (tests pin them). */
  readonly start?: RtpStreamStart;
  readonly onListenerError?: (err: unknown, event: string) => void;
}

export interface ReceivedRtpPacket extends RtpPacket {
  readonly from: TransportAddress;
  /** Clock time at which the datagram was handled. */
  readonly arrivalMs: number;
}

export interface RtpSessionCounters {
  readonly sent: number;
  /** Packets delivered as 'packet' events. */
  readonly received: number;
  /** RFC 3550 A.3: expected minus received, from sequence gaps of the delivered streams. */
  readonly lost: number;
  readonly duplicates: number;
  /** Not delivered because of source, SSRC or payload type: strangers, and a new source's packets before the target moved to it. */
  readonly rejected: number;
  /** Datagrams that are neither valid RTP nor valid RTCP. */
  readonly malformed: number;
}

/**
 * Why a datagram was not delivered: `unproven-source` is a new source still short of
 * `packetsToSwitch`; `sequence-jump` is a packet far out of sequence, dropped until the next one
 * confirms the sender restarted (RFC 3550 A.1).
 */
export type DropReason = 'malformed' | 'payload-type' | 'ssrc' | 'unproven-source' | 'rtcp-source' | 'duplicate' | 'sequence-jump';

export type RtpSessionEvents = {
  packet: ReceivedRtpPacket;
  rtcp: { readonly packets: readonly RtcpPacket[]; readonly from: TransportAddress };
  /** The send target moved to a new source after it proved itself (see RtpLatch). */
  targetChanged: { readonly target: TransportAddress; readonly previous: TransportAddress; readonly ssrc: number };
  dropped: { readonly from: TransportAddress; readonly reason: DropReason };
  /** A datagram whose first two bits are 0 (STUN, RFC 7983 §7): for the port manager's STUN client. */
  stun: { readonly bytes: Buffer; readonly from: TransportAddress };
  /** A socket error after open; the session stays usable unless it is closed. */
  error: RtpError;
};

/**
 * dgram resolves the address of every send, even an IP literal (dns.lookup, then a tick later
 * the send): the media socket sends to a literal 50 times a second, so a literal is answered at
 * once and only a name goes to dns.lookup.
 */
function literalFirstLookup(
  hostname: string,
  options: LookupOneOptions | number,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const literal = isIP(hostname);
  if (literal !== 0) callback(null, hostname, literal);
  // Node's dgram passes the socket's family as a number (4 or 6), though the typings say options.
  else if (typeof options === 'number') dnsLookup(hostname, options, callback);
  else dnsLookup(hostname, options, callback);
}

/** One RTP packet in this many is sent with a callback that reports send errors (see sendBytes). */
export const SEND_CHECK_EVERY = 50;

export class RtpSession {
  readonly events: TypedEmitter<RtpSessionEvents>;
  /** The bound address and port (the one to put in our SDP); still readable after close(). */
  readonly local: TransportAddress;
  private readonly packetizer: RtpPacketizer;
  private readonly latch: RtpLatch;
  private readonly clock: Clock;
  private readonly clockRateHz: number;
  private stats: { ssrc: number; reception: RtpReceptionStats } | undefined;
  /** Loss of streams the peer replaced by a new SSRC, so `lost` never goes backwards. */
  private priorLost = 0;
  private received = 0;
  private duplicates = 0;
  private rejected = 0;
  private malformed = 0;
  private closed = false;
  private lastSent: number | undefined;
  /** Packets to send without a callback before the next one that carries it (see sendBytes). */
  private sendsUntilCheck = 0;
  /** Where RTCP goes without rtcp-mux: the SDP's RTCP address, then where the peer's RTCP comes from. */
  private rtcpTarget: TransportAddress | undefined;

  private constructor(
    private readonly socket: Socket,
    opts: RtpSessionOptions,
  ) {
    const sendPayloadType = opts.sendPayloadType ?? opts.payloadTypes[0];
    if (sendPayloadType === undefined) throw new RtpError('invalid-field', 'no payload type negotiated');
    this.events = new TypedEmitter<RtpSessionEvents>(opts.onListenerError);
    this.packetizer = new RtpPacketizer(opts.start ?? randomStreamStart(), sendPayloadType);
    this.latch = new RtpLatch({
      remote: opts.remote,
      payloadTypes: opts.payloadTypes,
      ...(opts.packetsToSwitch === undefined ? {} : { packetsToSwitch: opts.packetsToSwitch }),
    });
    this.clock = opts.clock ?? new SystemClock();
    this.clockRateHz = opts.clockRateHz ?? 8000;
    this.rtcpTarget = opts.remoteRtcp;
    const bound = socket.address();
    this.local = { address: bound.address, port: bound.port };
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    socket.on('error', (err) => this.events.emit('error', new RtpError('socket', `RTP socket: ${err.message}`, { cause: err })));
  }

  /** Binds the socket; rejects with RtpError('socket') if the address or port cannot be bound. */
  static open(opts: RtpSessionOptions): Promise<RtpSession> {
    const socket = createSocket({ type: isIPv6(opts.localAddress) ? 'udp6' : 'udp4', lookup: literalFirstLookup });
    return new Promise((resolve, reject) => {
      const onBindError = (err: Error): void => {
        socket.close();
        reject(new RtpError('socket', `cannot bind RTP socket to ${opts.localAddress}:${opts.localPort}: ${err.message}`, { cause: err }));
      };
      socket.once('error', onBindError);
      socket.bind(opts.localPort, opts.localAddress, () => {
        socket.off('error', onBindError);
        try {
          resolve(new RtpSession(socket, opts));
        } catch (err) {
          socket.close();
          reject(err);
        }
      });
    });
  }

  /** Where packets go: the SDP address, or the source the peer proved it moved to. */
  get target(): TransportAddress {
    return this.latch.target;
  }

  /** When RTP or muxed RTCP last went out (the clock's ms), for RFC 6263 keep-alives; undefined before. */
  get lastSentMs(): number | undefined {
    return this.lastSent;
  }

  get ssrc(): number {
    return this.packetizer.ssrc;
  }

  get counters(): RtpSessionCounters {
    return {
      sent: this.packetizer.packetCount,
      received: this.received,
      lost: this.priorLost + (this.stats?.reception.snapshot().lost ?? 0),
      duplicates: this.duplicates,
      rejected: this.rejected,
      malformed: this.malformed,
    };
  }

  /** RFC 3550 §6.4.1 sender figures for an SR, and the timestamp the next packet will carry. */
  get sending(): { readonly packetCount: number; readonly octetCount: number; readonly nextTimestamp: number } {
    return { packetCount: this.packetizer.packetCount, octetCount: this.packetizer.octetCount, nextTimestamp: this.packetizer.nextTimestamp };
  }

  /** RFC 3550 A.8 interarrival jitter of the current stream, in ms. */
  get jitterMs(): number {
    return this.stats?.reception.jitterMs ?? 0;
  }

  /**
   * Sends `payload` stamped with the current timestamp, which then advances by `samples`;
   * `payloadType` overrides the session's send payload type for this packet.
   */
  send(payload: Uint8Array, samples: number, marker = false, payloadType?: number): void {
    this.sendBytes(this.packetizer.packetize(payload, samples, marker, payloadType));
  }

  /** Advances the timestamp for time that passes without a packet (silence, a skipped frame). */
  skip(samples: number): void {
    this.packetizer.advanceTimestamp(samples);
  }

  /** Sends bytes that are not RTP from the media socket (STUN for the port manager, early UDP). */
  sendRaw(bytes: Uint8Array, to: TransportAddress, callback?: (err: Error | null) => void): void {
    if (this.closed) {
      callback?.(new RtpError('closed', 'RTP session is closed'));
      return;
    }
    this.socket.send(bytes, to.port, to.address, (err) => callback?.(err ?? null));
  }

  /**
   * Sends an already built RTCP compound packet from the media socket: to the RTP target with
   * rtcp-mux, else to the peer's RTCP address (our SDP names the media port for our RTCP too, RFC
   * 3605, so what we send comes from the address we advertised). Only packets to the RTP target
   * count as sent for keep-alives: a port-restricted NAT keeps a pinhole per remote port.
   */
  sendRtcp(bytes: Uint8Array): void {
    if (!this.rtcpTarget) {
      this.sendBytes(bytes);
      return;
    }
    if (this.closed) throw new RtpError('closed', 'RTP session is closed');
    const { address, port } = this.rtcpTarget;
    this.socket.send(bytes, port, address, (err) => {
      if (err) this.events.emit('error', new RtpError('socket', `RTCP send to ${address}:${port}: ${errorMessage(err)}`, { cause: err }));
    });
  }

  /** A new offer/answer changed the peer's addresses or payload types: latching starts over. */
  setRemote(remote: TransportAddress, payloadTypes: readonly number[], remoteRtcp?: TransportAddress): void {
    this.latch.reset(remote, payloadTypes);
    this.rtcpTarget = remoteRtcp;
  }

  /** Closes the socket; idempotent. Listeners are dropped once the socket has closed. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => {
      this.socket.close(() => {
        this.events.removeAll();
        resolve();
      });
    });
  }

  private sendBytes(bytes: Uint8Array): void {
    if (this.closed) throw new RtpError('closed', 'RTP session is closed');
    const { address, port } = this.latch.target;
    this.lastSent = this.clock.now();
    // dgram answers a send that has a callback with a process.nextTick even when the kernel took
    // the datagram at once, a second round of JavaScript after every packet. Send errors (no
    // route, a firewall's EPERM) last as long as their cause, so the first packet and one in
    // SEND_CHECK_EVERY after it carry the callback: a lasting failure is reported within a second
    // at 20 ms, once a second rather than 50 times, and the other packets cost no extra tick.
    if (this.sendsUntilCheck > 0) {
      this.sendsUntilCheck--;
      this.socket.send(bytes, port, address);
      return;
    }
    this.sendsUntilCheck = SEND_CHECK_EVERY - 1;
    this.socket.send(bytes, port, address, this.afterSend);
  }

  /** One callback for the checked packets, not a closure each: dgram's error names the address and port it was sent to. */
  private readonly afterSend = (err: (Error & { address?: string; port?: number }) | null): void => {
    if (!err) return;
    const address = err.address ?? this.latch.target.address;
    const port = err.port ?? this.latch.target.port;
    this.events.emit('error', new RtpError('socket', `RTP send to ${address}:${port}: ${errorMessage(err)}`, { cause: err }));
  };

  private onDatagram(msg: Buffer, rinfo: RemoteInfo): void {
    const from: TransportAddress = { address: rinfo.address, port: rinfo.port };
    const arrivalMs = this.clock.now();
    // RFC 7983: 0-3 is STUN, 128-191 RTP/RTCP; STUN shares the media port (keep-alives, mappings).
    if (msg.length > 0 && ((msg[0] as number) & 0xc0) === 0 && this.events.listenerCount('stun') > 0) {
      this.events.emit('stun', { bytes: msg, from });
      return;
    }
    if (isRtcp(msg)) {
      this.onRtcp(msg, from);
      return;
    }
    const packet = decodeRtp(msg);
    if (packet instanceof RtpError) {
      this.drop(from, 'malformed');
      return;
    }
    const verdict = this.latch.receive(from, packet.ssrc, packet.payloadType);
    if (verdict.kind === 'reject' || verdict.kind === 'candidate') {
      this.drop(from, verdict.kind === 'reject' ? verdict.reason : 'unproven-source');
      return;
    }
    if (verdict.kind === 'switch') {
      this.events.emit('targetChanged', { target: verdict.target, previous: verdict.previous, ssrc: packet.ssrc });
    }
    const reception = this.receptionFor(packet.ssrc);
    const sequence = reception.receive(packet.sequenceNumber, packet.timestamp, arrivalMs);
    if (sequence === 'duplicate' || sequence === 'jump') {
      this.drop(from, sequence === 'jump' ? 'sequence-jump' : 'duplicate');
      return;
    }
    this.received++;
    this.events.emit('packet', { ...packet, from, arrivalMs });
  }

  // RFC 3550 A.1 keeps state per source: a new SSRC has its own sequence space, so its statistics start over.
  private receptionFor(ssrc: number): RtpReceptionStats {
    if (this.stats?.ssrc !== ssrc) {
      this.priorLost += this.stats?.reception.snapshot().lost ?? 0;
      this.stats = { ssrc, reception: new RtpReceptionStats(this.clockRateHz) };
    }
    return this.stats.reception;
  }

  private onRtcp(msg: Uint8Array, from: TransportAddress): void {
    const packets = parseRtcp(msg);
    if (packets instanceof RtcpError) {
      this.drop(from, 'malformed');
      return;
    }
    // RTCP does not move the RTP target; only the current target's reports are believed: from
    // its very address and port with rtcp-mux, else from its address (the peer's RTCP port, or
    // where its NAT mapped it), and our RTCP then goes back there (symmetric RTCP, RFC 4961).
    const target = this.latch.target;
    if (this.rtcpTarget ? from.address !== target.address && !sameTransportAddress(from, this.rtcpTarget) : !sameTransportAddress(from, target)) {
      this.drop(from, 'rtcp-source');
      return;
    }
    if (this.rtcpTarget && !sameTransportAddress(from, target)) this.rtcpTarget = from;
    this.events.emit('rtcp', { packets, from });
  }

  private drop(from: TransportAddress, reason: DropReason): void {
    switch (reason) {
      case 'malformed':
        this.malformed++;
        break;
      case 'duplicate':
        this.duplicates++;
        break;
      case 'sequence-jump':
        break;
      default:
        this.rejected++;
    }
    this.events.emit('dropped', { from, reason });
  }
}

// Early UDP (rtc.enableEarlyUdpPackets, the design card's EnableEarlyUDPPackets): as soon as the far
// end's media address is known (SDP in a 183/180/200, or in its offer) a few small packets go from
// our RTP socket to its RTP and RTCP ports. A NAT with address(-and-port)-dependent filtering
// (RFC 4787 §5) lets in only replies to what went out, so without them the far end's early media
// (ringback, announcements) is dropped until we send media of our own, which is after the answer.
//
// What goes out, chosen to be harmless to any receiver (RFC 6263 lists the options):
// - to the RTP port, an RTP packet with no payload and a dynamic payload type the session does not
//   use (RFC 6263 §4.6). RFC 3550 §5.1: "A receiver MUST ignore packets with payload types that it
//   does not understand", so nothing is played; it carries our SSRC, so a media relay that latches
//   (symmetric RTP) learns our public address from it;
// - to the RTCP port when RTCP is not multiplexed, an empty receiver report (RFC 3550 §6.4.2,
//   RC = 0) with our SSRC: valid RTCP that reports nothing.
// A 0-byte datagram (RFC 6263 §4.1) would be smaller, but some NATs and firewalls drop those.
// Three of each, 20 ms apart (one ptime), so one lost packet does not leave the pinhole shut.
import { randomInt } from 'node:crypto';
import { encodeRtcp, encodeRtp, type TransportAddress } from '../media/index.js';
import type { Negotiated } from '../sdp/index.js';
import type { Clock, TimerHandle } from '../util/index.js';

export const EARLY_UDP_PACKETS = 3;
export const EARLY_UDP_INTERVAL_MS = 20;

/** Where the far end's media goes, from the negotiated SDP. */
export interface EarlyUdpTarget {
  readonly rtp: TransportAddress;
  readonly rtcp: TransportAddress;
  /** Payload types in use (codec, telephone-event): the early packets carry none of them. */
  readonly payloadTypes: readonly number[];
}

export interface EarlyUdpSend {
  /** Offset from the start of the burst. */
  readonly atMs: number;
  readonly to: TransportAddress;
  readonly bytes: Uint8Array;
}

export interface EarlyUdpPlanOptions {
  readonly ssrc: number;
  /** Sequence number of the first RTP packet; the others follow it. */
  readonly sequenceStart: number;
  readonly count?: number;
  readonly intervalMs?: number;
}

/**
 * A dynamic payload type (RFC 3551 §3: 96-127) the session does not use; 127 first. RFC 5761 §4
 * keeps 64-95 out of the picture anyway (they would look like RTCP on a multiplexed port).
 */
export function unusedPayloadType(used: readonly number[]): number {
  for (let pt = 127; pt >= 96; pt--) if (!used.includes(pt)) return pt;
  throw new RangeError('every dynamic payload type is in use');
}

const same = (a: TransportAddress, b: TransportAddress): boolean => a.address === b.address && a.port === b.port;

/** The burst for one target: pure, so its bytes and timing are tested without a socket. */
export function planEarlyUdp(target: EarlyUdpTarget, o: EarlyUdpPlanOptions): EarlyUdpSend[] {
  const count = o.count ?? EARLY_UDP_PACKETS;
  const intervalMs = o.intervalMs ?? EARLY_UDP_INTERVAL_MS;
  const payloadType = unusedPayloadType(target.payloadTypes);
  const rtcp = same(target.rtp, target.rtcp) ? undefined : encodeRtcp([{ type: 'rr', ssrc: o.ssrc >>> 0, reports: [] }]);
  const sends: EarlyUdpSend[] = [];
  for (let i = 0; i < count; i++) {
    const atMs = i * intervalMs;
    const bytes = encodeRtp({ marker: false, payloadType, sequenceNumber: (o.sequenceStart + i) & 0xffff, timestamp: 0, ssrc: o.ssrc >>> 0, payload: new Uint8Array(0) });
    sends.push({ atMs, to: target.rtp, bytes });
    if (rtcp) sends.push({ atMs, to: target.rtcp, bytes: rtcp });
  }
  return sends;
}

export interface EarlyUdpDeps {
  readonly clock: Clock;
  /** Sends from the session's RTP socket (RtpSession.sendRaw). */
  readonly send: (bytes: Uint8Array, to: TransportAddress) => void;
  readonly ssrc: number;
}

/**
 * The driver for one session: sends a burst to each new far-end address and owns its timers.
 * A target it already opened (the same SDP in a 183 and then the 200) is not sent to again.
 */
export class EarlyUdp {
  private readonly timers = new Set<TimerHandle>();
  private opened: EarlyUdpTarget | undefined;
  private sequence = randomInt(0, 0x10000);
  private closed = false;

  constructor(private readonly deps: EarlyUdpDeps, private readonly options: { count?: number; intervalMs?: number } = {}) {}

  /** Sends the burst to `target` unless it was the last one opened; returns whether it did. */
  open(target: EarlyUdpTarget): boolean {
    if (this.closed) return false;
    const last = this.opened;
    if (last && same(last.rtp, target.rtp) && same(last.rtcp, target.rtcp)) return false;
    this.opened = target;
    const sends = planEarlyUdp(target, { ssrc: this.deps.ssrc, sequenceStart: this.sequence, ...this.options });
    this.sequence = (this.sequence + (this.options.count ?? EARLY_UDP_PACKETS)) & 0xffff;
    for (const s of sends) {
      if (s.atMs === 0) {
        this.deps.send(s.bytes, s.to);
        continue;
      }
      const handle = this.deps.clock.setTimer(s.atMs, () => {
        this.timers.delete(handle);
        if (!this.closed) this.deps.send(s.bytes, s.to);
      });
      this.timers.add(handle);
    }
    return true;
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) this.deps.clock.cancel(t);
    this.timers.clear();
  }
}

/** The far end's media ports from the negotiated SDP (RTCP on the RTP port when multiplexed). */
export function earlyUdpTarget(n: Negotiated): EarlyUdpTarget {
  const rtp = { address: n.remoteAddress, port: n.remoteRtpPort };
  return {
    rtp,
    rtcp: n.rtcpMux ? rtp : { address: n.remoteRtcpAddress, port: n.remoteRtcpPort },
    payloadTypes: [n.codec.payloadType, ...(n.telephoneEventPt !== undefined ? [n.telephoneEventPt] : [])],
  };
}

// RTCP reports of one call's audio stream, without I/O (RFC 3550 §6.4): an SR when we sent RTP
// since the last report, else an RR, each with a report block about the peer's stream; and the
// round-trip time from the peer's report blocks about ours (§6.4.1: RTT = A − LSR − DLSR, in
// the middle 32 bits of the NTP timestamp format).
//
// NTP time here is the caller's: wall-clock milliseconds that advance with the pipeline's
// clock. Only the peer reads our SR's NTP timestamp (it echoes its middle 32 bits as LSR), so a
// wall clock that is slightly off does not change the RTT.
import { buildRtcpBye, buildRtcpReport, type ReportBlock, type RtcpPacket, type SenderInfo } from './rtcp-packet.js';
import { RtpReceptionStats, type ReceptionSnapshot } from './rtp-reception-stats.js';

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;
const TWO_32 = 2 ** 32;

/** The NTP timestamp of Unix time `ms` as its two 32-bit halves. */
export function ntpTimestamp(ms: number): { seconds: number; fraction: number } {
  const total = ms / 1000 + NTP_UNIX_OFFSET_S;
  const seconds = Math.floor(total);
  return { seconds: seconds % TWO_32, fraction: Math.min(TWO_32 - 1, Math.floor((total - seconds) * TWO_32)) };
}

/** §6.4.1: the middle 32 bits of the NTP timestamp, units of 1/65536 s. */
export function ntpShort(ms: number): number {
  return Math.floor((ms / 1000 + NTP_UNIX_OFFSET_S) * 65536) % TWO_32;
}

export interface RtcpSenderState {
  readonly packetCount: number;
  readonly octetCount: number;
  /** The RTP timestamp that corresponds to the report's NTP time. */
  readonly rtpTimestamp: number;
}

export interface RtcpReporterOptions {
  readonly ssrc: number;
  readonly cname: string;
  readonly clockRateHz?: number;
}

export class RtcpReporter {
  private clockRateHz: number;
  private source: { ssrc: number; stats: RtpReceptionStats } | undefined;
  /** A.3: expected and received at the last report, for the fraction lost in the interval. */
  private prior = { expected: 0, received: 0 };
  /** The peer's last SR: its NTP middle bits and when it arrived (for LSR and DLSR). */
  private lastSr: { lsr: number; atMs: number } | undefined;
  private packetsAtLastReport = 0;
  private rtt: number | undefined;
  private reportsSent = 0;
  private reportsReceived = 0;

  constructor(private readonly opts: RtcpReporterOptions) {
    this.clockRateHz = opts.clockRateHz ?? 8000;
  }

  /** The latest round-trip time measured, ms; undefined until a report about our stream came back. */
  get rttMs(): number | undefined {
    return this.rtt;
  }

  get counts(): { readonly sent: number; readonly received: number } {
    return { sent: this.reportsSent, received: this.reportsReceived };
  }

  /** RFC 3550 A.8 interarrival jitter of the peer's stream, ms; 0 before any packet. */
  get jitterMs(): number {
    const snap = this.source?.stats.snapshot();
    return snap ? (snap.jitter * 1000) / this.clockRateHz : 0;
  }

  /**
   * The codec changed to one with another RTP clock: jitter in the old units means nothing in the
   * new ones, so the peer's stream is measured afresh (loss counts restart with it). Returns
   * whether the rate changed.
   */
  setClockRate(clockRateHz: number): boolean {
    if (clockRateHz === this.clockRateHz) return false;
    this.clockRateHz = clockRateHz;
    this.source = undefined;
    return true;
  }

  /** An RTP packet of the peer's stream (A.1 sequence checks, A.8 jitter). */
  onRtp(p: { readonly ssrc: number; readonly sequenceNumber: number; readonly timestamp: number; readonly arrivalMs: number }): void {
    if (this.source?.ssrc !== p.ssrc) {
      this.source = { ssrc: p.ssrc, stats: new RtpReceptionStats(this.clockRateHz) };
      this.prior = { expected: 0, received: 0 };
    }
    this.source.stats.receive(p.sequenceNumber, p.timestamp, p.arrivalMs);
  }

  /** The peer's stream as of now, for the statistics. */
  get reception(): ReceptionSnapshot | undefined {
    return this.source?.stats.snapshot();
  }

  /** Our next report compound packet: SR if we sent since the last one, else RR (§6.4). */
  report(nowMs: number, ntpMs: number, sender: RtcpSenderState | undefined): Uint8Array {
    const reports = this.reportBlock(nowMs);
    const sentSince = sender !== undefined && sender.packetCount > this.packetsAtLastReport;
    if (sender) this.packetsAtLastReport = sender.packetCount;
    this.reportsSent++;
    const base = { ssrc: this.opts.ssrc, cname: this.opts.cname, reports };
    if (!sentSince) return buildRtcpReport(base);
    const ntp = ntpTimestamp(ntpMs);
    const info: SenderInfo = {
      ntpSeconds: ntp.seconds,
      ntpFraction: ntp.fraction,
      rtpTimestamp: sender.rtpTimestamp >>> 0,
      packetCount: sender.packetCount % TWO_32,
      octetCount: sender.octetCount % TWO_32,
    };
    return buildRtcpReport({ ...base, sender: info });
  }

  /** §6.6: BYE, when our stream ends. */
  bye(reason?: string): Uint8Array {
    return buildRtcpBye({ ssrc: this.opts.ssrc, cname: this.opts.cname, ...(reason === undefined ? {} : { reason }) });
  }

  /** A compound packet from the peer: remember its SR, and take the RTT from a block about us. */
  receive(packets: readonly RtcpPacket[], nowMs: number, ntpMs: number): void {
    this.reportsReceived++;
    for (const p of packets) {
      if (p.type !== 'sr' && p.type !== 'rr') continue;
      if (p.type === 'sr') this.lastSr = { lsr: (((p.sender.ntpSeconds & 0xffff) << 16) | (p.sender.ntpFraction >>> 16)) >>> 0, atMs: nowMs };
      for (const block of p.reports) {
        // §6.4.1: LSR 0 means the peer has had no SR from us yet, so there is no round trip to measure.
        if (block.ssrc !== this.opts.ssrc || block.lastSr === 0) continue;
        const units = (ntpShort(ntpMs) - block.lastSr - block.delaySinceLastSr + 2 * TWO_32) % TWO_32;
        // A "negative" round trip (clock steps, a stale block) wraps to a huge value: not believed.
        if (units < TWO_32 / 2) this.rtt = (units * 1000) / 65536;
      }
    }
  }

  /** §6.4.1 report block about the peer's stream, if it sent any. */
  private reportBlock(nowMs: number): ReportBlock[] {
    const src = this.source;
    if (!src) return [];
    const snap = src.stats.snapshot();
    const expectedInterval = snap.expected - this.prior.expected;
    const receivedInterval = snap.received - this.prior.received;
    this.prior = { expected: snap.expected, received: snap.received };
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost = expectedInterval <= 0 || lostInterval <= 0 ? 0 : Math.min(255, Math.floor((lostInterval * 256) / expectedInterval));
    const sr = this.lastSr;
    return [
      {
        ssrc: src.ssrc,
        fractionLost,
        cumulativeLost: Math.max(-0x800000, Math.min(0x7fffff, snap.lost)),
        extendedHighestSeq: snap.extendedHighestSeq % TWO_32,
        jitter: Math.min(TWO_32 - 1, Math.round(snap.jitter)),
        lastSr: sr?.lsr ?? 0,
        delaySinceLastSr: sr ? Math.min(TWO_32 - 1, Math.round((nowMs - sr.atMs) * 65.536)) : 0,
      },
    ];
  }
}

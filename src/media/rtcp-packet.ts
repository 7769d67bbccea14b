// RFC 3550 §6.4 (SR, RR), §6.5 (SDES), §6.6 (BYE) and the compound-packet rules of §6.1 and
// the validity check of Appendix A.2. Parsing checks every length against the datagram first;
// a hostile datagram yields an RtcpError value, never an exception or an out-of-bounds read.
import { CodedError } from '../util/index.js';

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const SDES_CNAME = 1;

const MAX_COUNT = 31;
const utf8 = new TextDecoder();
const utf8Out = new TextEncoder();
const REPORT_BLOCK_BYTES = 24;

export type RtcpErrorCode = 'too-short' | 'bad-version' | 'bad-length' | 'bad-padding' | 'not-compound' | 'bad-sdes' | 'bad-bye' | 'invalid-field';

export class RtcpError extends CodedError<RtcpErrorCode> {}

/** RFC 3550 §6.4.1 report block. `cumulativeLost` is the signed 24-bit field. */
export interface ReportBlock {
  readonly ssrc: number;
  readonly fractionLost: number;
  readonly cumulativeLost: number;
  readonly extendedHighestSeq: number;
  readonly jitter: number;
  readonly lastSr: number;
  readonly delaySinceLastSr: number;
}

/** RFC 3550 §6.4.1 sender info; the NTP timestamp is kept as its two 32-bit halves. */
export interface SenderInfo {
  readonly ntpSeconds: number;
  readonly ntpFraction: number;
  readonly rtpTimestamp: number;
  readonly packetCount: number;
  readonly octetCount: number;
}

export interface SdesChunk {
  readonly ssrc: number;
  readonly cname?: string;
}

export type RtcpPacket =
  | { readonly type: 'sr'; readonly ssrc: number; readonly sender: SenderInfo; readonly reports: readonly ReportBlock[] }
  | { readonly type: 'rr'; readonly ssrc: number; readonly reports: readonly ReportBlock[] }
  | { readonly type: 'sdes'; readonly chunks: readonly SdesChunk[] }
  | { readonly type: 'bye'; readonly ssrcs: readonly number[]; readonly reason?: string }
  /** APP, feedback and any other type: kept whole so the caller may look, never interpreted here. */
  | { readonly type: 'other'; readonly packetType: number; readonly count: number; readonly body: Uint8Array };

/** Parses a compound RTCP packet (RFC 3550 A.2: first SR or RR, padding only on the last). */
export function parseRtcp(bytes: Uint8Array): RtcpPacket[] | RtcpError {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const packets: RtcpPacket[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 4) return new RtcpError('too-short', `${bytes.length - offset} stray bytes after packet ${packets.length}`);
    const b0 = view.getUint8(offset);
    const packetType = view.getUint8(offset + 1);
    const totalBytes = 4 * (view.getUint16(offset + 2) + 1);
    if (b0 >> 6 !== 2) return new RtcpError('bad-version', `RTCP version ${b0 >> 6}, expected 2`);
    if (offset + totalBytes > bytes.length) {
      return new RtcpError('bad-length', `packet ${packets.length} claims ${totalBytes} bytes, ${bytes.length - offset} left`);
    }
    if (packets.length === 0 && packetType !== RTCP_SR && packetType !== RTCP_RR) {
      return new RtcpError('not-compound', `compound packet starts with type ${packetType}, not SR or RR`);
    }
    let end = offset + totalBytes;
    if (b0 & 0x20) {
      if (end !== bytes.length) return new RtcpError('bad-padding', 'padding bit set on a packet that is not the last');
      const pad = view.getUint8(end - 1);
      if (pad === 0 || pad > totalBytes - 4) return new RtcpError('bad-padding', `padding count ${pad} in a ${totalBytes}-byte packet`);
      end -= pad;
    }
    const body = new DataView(bytes.buffer, bytes.byteOffset + offset + 4, end - offset - 4);
    const parsed = parseOne(packetType, b0 & 0x1f, body);
    if (parsed instanceof RtcpError) return parsed;
    packets.push(parsed);
    offset += totalBytes;
  }
  if (packets.length === 0) return new RtcpError('too-short', 'empty RTCP datagram');
  return packets;
}

function parseOne(packetType: number, count: number, body: DataView): RtcpPacket | RtcpError {
  switch (packetType) {
    case RTCP_SR: {
      // Bytes after the report blocks are a profile-specific extension (§6.4.1) and are skipped.
      if (body.byteLength < 24 + count * REPORT_BLOCK_BYTES) return new RtcpError('bad-length', `SR with ${count} blocks in ${body.byteLength} bytes`);
      const sender: SenderInfo = {
        ntpSeconds: body.getUint32(4),
        ntpFraction: body.getUint32(8),
        rtpTimestamp: body.getUint32(12),
        packetCount: body.getUint32(16),
        octetCount: body.getUint32(20),
      };
      return { type: 'sr', ssrc: body.getUint32(0), sender, reports: readReports(body, 24, count) };
    }
    case RTCP_RR:
      if (body.byteLength < 4 + count * REPORT_BLOCK_BYTES) return new RtcpError('bad-length', `RR with ${count} blocks in ${body.byteLength} bytes`);
      return { type: 'rr', ssrc: body.getUint32(0), reports: readReports(body, 4, count) };
    case RTCP_SDES:
      return parseSdes(body, count);
    case RTCP_BYE:
      return parseBye(body, count);
    default:
      return { type: 'other', packetType, count, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
  }
}

function readReports(body: DataView, start: number, count: number): ReportBlock[] {
  const reports: ReportBlock[] = [];
  for (let i = 0, o = start; i < count; i++, o += REPORT_BLOCK_BYTES) {
    const lostField = body.getUint32(o + 4) & 0xffffff;
    reports.push({
      ssrc: body.getUint32(o),
      fractionLost: body.getUint8(o + 4),
      cumulativeLost: lostField & 0x800000 ? lostField - 0x1000000 : lostField,
      extendedHighestSeq: body.getUint32(o + 8),
      jitter: body.getUint32(o + 12),
      lastSr: body.getUint32(o + 16),
      delaySinceLastSr: body.getUint32(o + 20),
    });
  }
  return reports;
}

// RFC 3550 §6.5: each chunk is an SSRC, items (type, length, text), a null item, then zero
// padding to the next 32-bit boundary.
function parseSdes(body: DataView, count: number): RtcpPacket | RtcpError {
  const chunks: SdesChunk[] = [];
  let o = 0;
  for (let i = 0; i < count; i++) {
    if (body.byteLength - o < 8) return new RtcpError('bad-sdes', `SDES chunk ${i} truncated`);
    const ssrc = body.getUint32(o);
    o += 4;
    let cname: string | undefined;
    for (;;) {
      if (o >= body.byteLength) return new RtcpError('bad-sdes', `SDES chunk ${i} has no terminating null item`);
      const itemType = body.getUint8(o);
      if (itemType === 0) break;
      if (o + 2 > body.byteLength) return new RtcpError('bad-sdes', `SDES item in chunk ${i} truncated`);
      const len = body.getUint8(o + 1);
      if (o + 2 + len > body.byteLength) return new RtcpError('bad-sdes', `SDES item of ${len} bytes overruns chunk ${i}`);
      if (itemType === SDES_CNAME && cname === undefined) {
        cname = utf8.decode(new Uint8Array(body.buffer, body.byteOffset + o + 2, len));
      }
      o += 2 + len;
    }
    o = (o + 4) & ~3;
    if (o > body.byteLength) return new RtcpError('bad-sdes', `SDES chunk ${i} padding overruns the packet`);
    chunks.push(cname === undefined ? { ssrc } : { ssrc, cname });
  }
  return { type: 'sdes', chunks };
}

function parseBye(body: DataView, count: number): RtcpPacket | RtcpError {
  if (body.byteLength < 4 * count) return new RtcpError('bad-bye', `BYE with ${count} SSRCs in ${body.byteLength} bytes`);
  const ssrcs: number[] = [];
  for (let i = 0; i < count; i++) ssrcs.push(body.getUint32(4 * i));
  const o = 4 * count;
  if (o >= body.byteLength) return { type: 'bye', ssrcs };
  const len = body.getUint8(o);
  if (o + 1 + len > body.byteLength) return new RtcpError('bad-bye', `BYE reason of ${len} bytes overruns the packet`);
  const reason = utf8.decode(new Uint8Array(body.buffer, body.byteOffset + o + 1, len));
  return { type: 'bye', ssrcs, reason };
}

/** Encodes SR, RR, SDES (CNAME only) and BYE packets back to back as one compound packet. */
export function encodeRtcp(packets: readonly RtcpPacket[]): Uint8Array {
  return concat(packets.map(encodeOne));
}

/**
 * RFC 3550 §6.1: a report compound packet — an SR when `sender` is given (we sent media since the
 * last report), else an RR — followed by an SDES with our CNAME.
 */
export function buildRtcpReport(opts: { ssrc: number; cname: string; sender?: SenderInfo; reports?: readonly ReportBlock[] }): Uint8Array {
  const reports = opts.reports ?? [];
  const first: RtcpPacket = opts.sender
    ? { type: 'sr', ssrc: opts.ssrc, sender: opts.sender, reports }
    : { type: 'rr', ssrc: opts.ssrc, reports };
  return encodeRtcp([first, { type: 'sdes', chunks: [{ ssrc: opts.ssrc, cname: opts.cname }] }]);
}

/** RFC 3550 §6.6: BYE travels in a compound packet too, after an (here empty) RR and the SDES CNAME. */
export function buildRtcpBye(opts: { ssrc: number; cname: string; reason?: string }): Uint8Array {
  const bye: RtcpPacket = opts.reason === undefined ? { type: 'bye', ssrcs: [opts.ssrc] } : { type: 'bye', ssrcs: [opts.ssrc], reason: opts.reason };
  return encodeRtcp([{ type: 'rr', ssrc: opts.ssrc, reports: [] }, { type: 'sdes', chunks: [{ ssrc: opts.ssrc, cname: opts.cname }] }, bye]);
}

function encodeOne(p: RtcpPacket): Uint8Array {
  switch (p.type) {
    case 'sr': {
      const body = new DataView(new ArrayBuffer(24 + p.reports.length * REPORT_BLOCK_BYTES));
      body.setUint32(0, u32('ssrc', p.ssrc));
      body.setUint32(4, u32('ntpSeconds', p.sender.ntpSeconds));
      body.setUint32(8, u32('ntpFraction', p.sender.ntpFraction));
      body.setUint32(12, u32('rtpTimestamp', p.sender.rtpTimestamp));
      body.setUint32(16, u32('packetCount', p.sender.packetCount));
      body.setUint32(20, u32('octetCount', p.sender.octetCount));
      writeReports(body, 24, p.reports);
      return withHeader(RTCP_SR, countOf(p.reports.length), body);
    }
    case 'rr': {
      const body = new DataView(new ArrayBuffer(4 + p.reports.length * REPORT_BLOCK_BYTES));
      body.setUint32(0, u32('ssrc', p.ssrc));
      writeReports(body, 4, p.reports);
      return withHeader(RTCP_RR, countOf(p.reports.length), body);
    }
    case 'sdes': {
      const chunks = p.chunks.map((c) => {
        const cname = c.cname === undefined ? new Uint8Array(0) : utf8Out.encode(c.cname);
        if (cname.length > 255) throw new RtcpError('invalid-field', `CNAME of ${cname.length} bytes, at most 255`);
        const len = (4 + (cname.length > 0 ? 2 + cname.length : 0) + 1 + 3) & ~3;
        const chunk = new Uint8Array(len);
        new DataView(chunk.buffer).setUint32(0, u32('ssrc', c.ssrc));
        if (cname.length > 0) {
          chunk[4] = SDES_CNAME;
          chunk[5] = cname.length;
          chunk.set(cname, 6);
        }
        return chunk;
      });
      const body = concat(chunks);
      return withHeader(RTCP_SDES, countOf(chunks.length), new DataView(body.buffer));
    }
    case 'bye': {
      const reason = p.reason === undefined ? undefined : utf8Out.encode(p.reason);
      if (reason && reason.length > 255) throw new RtcpError('invalid-field', `BYE reason of ${reason.length} bytes, at most 255`);
      const body = new DataView(new ArrayBuffer((4 * p.ssrcs.length + (reason ? 1 + reason.length : 0) + 3) & ~3));
      p.ssrcs.forEach((s, i) => body.setUint32(4 * i, u32('ssrc', s)));
      if (reason) {
        body.setUint8(4 * p.ssrcs.length, reason.length);
        new Uint8Array(body.buffer).set(reason, 4 * p.ssrcs.length + 1);
      }
      return withHeader(RTCP_BYE, countOf(p.ssrcs.length), body);
    }
    case 'other': {
      if (p.body.length % 4 !== 0) throw new RtcpError('invalid-field', `packet type ${p.packetType} body of ${p.body.length} bytes is not 32-bit aligned`);
      return withHeader(p.packetType, countOf(p.count), new DataView(p.body.buffer, p.body.byteOffset, p.body.byteLength));
    }
  }
}

function writeReports(body: DataView, start: number, reports: readonly ReportBlock[]): void {
  reports.forEach((r, i) => {
    const o = start + i * REPORT_BLOCK_BYTES;
    if (!Number.isInteger(r.cumulativeLost) || r.cumulativeLost < -0x800000 || r.cumulativeLost > 0x7fffff) {
      throw new RtcpError('invalid-field', `cumulativeLost ${r.cumulativeLost} does not fit the signed 24-bit field`);
    }
    if (!Number.isInteger(r.fractionLost) || r.fractionLost < 0 || r.fractionLost > 255) {
      throw new RtcpError('invalid-field', `fractionLost ${r.fractionLost} is not in 0..255`);
    }
    body.setUint32(o, u32('ssrc', r.ssrc));
    body.setUint32(o + 4, ((r.fractionLost << 24) | (r.cumulativeLost & 0xffffff)) >>> 0);
    body.setUint32(o + 8, u32('extendedHighestSeq', r.extendedHighestSeq));
    body.setUint32(o + 12, u32('jitter', r.jitter));
    body.setUint32(o + 16, u32('lastSr', r.lastSr));
    body.setUint32(o + 20, u32('delaySinceLastSr', r.delaySinceLastSr));
  });
}

function withHeader(packetType: number, count: number, body: DataView): Uint8Array {
  const out = new Uint8Array(4 + body.byteLength);
  const view = new DataView(out.buffer);
  view.setUint8(0, 0x80 | count);
  view.setUint8(1, packetType);
  view.setUint16(2, body.byteLength / 4);
  out.set(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), 4);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function countOf(n: number): number {
  if (n > MAX_COUNT) throw new RtcpError('invalid-field', `${n} items, the 5-bit count allows at most 31`);
  return n;
}

function u32(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RtcpError('invalid-field', `${name} ${value} is not a 32-bit unsigned integer`);
  return value;
}

// RFC 3550 §5.1: the RTP fixed header, CSRC list and header extension (§5.3.1).
// Bytes from the socket are parsed here, once, with every length checked before it is read;
// a hostile datagram yields an RtpError value, never an exception or an out-of-bounds read.
import { CodedError } from '../util/index.js';

export const RTP_VERSION = 2;
export const RTP_FIXED_HEADER_BYTES = 12;
export const RTP_MAX_CSRCS = 15;

export type RtpErrorCode =
  | 'too-short'
  | 'bad-version'
  | 'truncated-csrc'
  | 'truncated-extension'
  | 'bad-padding'
  | 'invalid-field'
  | 'closed'
  | 'socket';

export class RtpError extends CodedError<RtpErrorCode> {}

/** RFC 3550 §5.3.1: 16 bits defined by the profile, then the extension data (a multiple of 4 bytes). */
export interface RtpExtension {
  readonly profile: number;
  readonly data: Uint8Array;
}

export interface RtpHeader {
  readonly marker: boolean;
  readonly payloadType: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly csrcs: readonly number[];
  readonly extension?: RtpExtension;
}

export interface RtpPacket extends RtpHeader {
  /** A view into the decoded datagram (no copy), padding excluded. */
  readonly payload: Uint8Array;
  /** Number of padding octets, including the count octet itself; 0 when the P bit is clear. */
  readonly paddingBytes: number;
}

/** What encodeRtp needs; `paddingBytes` (1..255) appends RFC 3550 §5.1 padding. */
export interface RtpPacketInit {
  readonly marker?: boolean;
  readonly payloadType: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly csrcs?: readonly number[];
  readonly extension?: RtpExtension;
  readonly payload: Uint8Array;
  readonly paddingBytes?: number;
}

/** Decodes one RTP packet; the result is either the packet or the reason it is not one. */
export function decodeRtp(bytes: Uint8Array): RtpPacket | RtpError {
  if (bytes.length < RTP_FIXED_HEADER_BYTES) {
    return new RtpError('too-short', `RTP packet of ${bytes.length} bytes is shorter than the 12-byte fixed header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const b0 = view.getUint8(0);
  const b1 = view.getUint8(1);
  const version = b0 >> 6;
  if (version !== RTP_VERSION) return new RtpError('bad-version', `RTP version ${version}, expected 2`);
  const hasPadding = (b0 & 0x20) !== 0;
  const hasExtension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;

  let offset = RTP_FIXED_HEADER_BYTES;
  if (bytes.length < offset + 4 * csrcCount) {
    return new RtpError('truncated-csrc', `CSRC count ${csrcCount} needs ${offset + 4 * csrcCount} bytes, got ${bytes.length}`);
  }
  const csrcs: number[] = [];
  for (let i = 0; i < csrcCount; i++, offset += 4) csrcs.push(view.getUint32(offset));

  let extension: RtpExtension | undefined;
  if (hasExtension) {
    if (bytes.length < offset + 4) return new RtpError('truncated-extension', 'header extension missing its 4-byte header');
    const profile = view.getUint16(offset);
    // RFC 3550 §5.3.1: the length counts 32-bit words after the 4-byte extension header.
    const dataBytes = 4 * view.getUint16(offset + 2);
    offset += 4;
    if (bytes.length < offset + dataBytes) {
      return new RtpError('truncated-extension', `header extension of ${dataBytes} bytes overruns the ${bytes.length}-byte packet`);
    }
    extension = { profile, data: bytes.subarray(offset, offset + dataBytes) };
    offset += dataBytes;
  }

  let paddingBytes = 0;
  if (hasPadding) {
    // RFC 3550 §5.1: the last octet counts the padding octets, itself included.
    if (bytes.length === offset) return new RtpError('bad-padding', 'P bit set but no octet left for the padding count');
    paddingBytes = view.getUint8(bytes.length - 1);
    if (paddingBytes === 0) return new RtpError('bad-padding', 'padding count of 0 (it includes itself, so at least 1)');
    if (paddingBytes > bytes.length - offset) {
      return new RtpError('bad-padding', `padding of ${paddingBytes} bytes is longer than the ${bytes.length - offset} bytes after the header`);
    }
  }

  const header = {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequenceNumber: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    csrcs,
    payload: bytes.subarray(offset, bytes.length - paddingBytes),
    paddingBytes,
  };
  return extension ? { ...header, extension } : header;
}

/** Encodes one RTP packet; fields out of their wire ranges are a caller bug and throw RtpError('invalid-field'). */
export function encodeRtp(p: RtpPacketInit): Uint8Array {
  const csrcs = p.csrcs ?? [];
  const paddingBytes = p.paddingBytes ?? 0;
  checkRange('payloadType', p.payloadType, 0x7f);
  checkRange('sequenceNumber', p.sequenceNumber, 0xffff);
  checkRange('timestamp', p.timestamp, 0xffffffff);
  checkRange('ssrc', p.ssrc, 0xffffffff);
  checkRange('paddingBytes', paddingBytes, 0xff);
  if (csrcs.length > RTP_MAX_CSRCS) throw new RtpError('invalid-field', `${csrcs.length} CSRCs, at most 15`);
  for (const c of csrcs) checkRange('csrc', c, 0xffffffff);
  const ext = p.extension;
  if (ext) {
    checkRange('extension.profile', ext.profile, 0xffff);
    if (ext.data.length % 4 !== 0 || ext.data.length / 4 > 0xffff) {
      throw new RtpError('invalid-field', `extension data of ${ext.data.length} bytes is not a multiple of 4 up to 262140`);
    }
  }

  const headerBytes = RTP_FIXED_HEADER_BYTES + 4 * csrcs.length + (ext ? 4 + ext.data.length : 0);
  const out = new Uint8Array(headerBytes + p.payload.length + paddingBytes);
  const view = new DataView(out.buffer);
  view.setUint8(0, (RTP_VERSION << 6) | (paddingBytes > 0 ? 0x20 : 0) | (ext ? 0x10 : 0) | csrcs.length);
  view.setUint8(1, (p.marker ? 0x80 : 0) | p.payloadType);
  view.setUint16(2, p.sequenceNumber);
  view.setUint32(4, p.timestamp);
  view.setUint32(8, p.ssrc);
  let offset = RTP_FIXED_HEADER_BYTES;
  for (const c of csrcs) {
    view.setUint32(offset, c);
    offset += 4;
  }
  if (ext) {
    view.setUint16(offset, ext.profile);
    view.setUint16(offset + 2, ext.data.length / 4);
    out.set(ext.data, offset + 4);
    offset += 4 + ext.data.length;
  }
  out.set(p.payload, offset);
  if (paddingBytes > 0) out[out.length - 1] = paddingBytes;
  return out;
}

/**
 * RFC 5761 §4: with rtcp-mux, a datagram whose second octet is 192..223 is RTCP (packet types
 * 200-204 and their neighbours); RTP payload types 64-95 are not used so that the two never collide.
 */
export function isRtcp(bytes: Uint8Array): boolean {
  const b1 = bytes[1];
  return b1 !== undefined && b1 >= 192 && b1 <= 223;
}

function checkRange(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RtpError('invalid-field', `${name} ${value} is not an integer in 0..${max}`);
  }
}

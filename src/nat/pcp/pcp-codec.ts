// PCP messages (RFC 6887): the common request/response headers (§7.1, §7.2), options (§7.3) and
// the MAP opcode (§11.1). Pure encode/decode with the RFC's size rules.
import { fromPcpAddress, toPcpAddress } from './pcp-address.js';
import { PortControlError } from './port-control-error.js';

export const PCP_VERSION = 2;
export const PCP_SERVER_PORT = 5351;
export const PCP_OPCODE_ANNOUNCE = 0;
export const PCP_OPCODE_MAP = 1;
/** RFC 6887 §7: messages are at most 1100 bytes and a multiple of 4. */
export const PCP_MAX_MESSAGE_BYTES = 1100;
export const PCP_HEADER_BYTES = 24;
export const PCP_MAP_BYTES = 36;
export const PCP_NONCE_BYTES = 12;
export const PCP_RESULT_SUCCESS = 0;
/** IANA protocol numbers used in MAP (RFC 6887 §11.1). */
export const IANA_PROTOCOL = { tcp: 6, udp: 17 } as const;

export type PcpProtocol = keyof typeof IANA_PROTOCOL;

export interface PcpOption {
  readonly code: number;
  readonly data: Uint8Array;
}

export interface PcpMapRequest {
  /** 0 deletes the mapping (RFC 6887 §15). */
  readonly lifetimeS: number;
  /** The client's own address as it sends from (the server checks it: ADDRESS_MISMATCH). */
  readonly clientAddress: string;
  readonly nonce: Uint8Array;
  readonly protocol: PcpProtocol;
  readonly internalPort: number;
  /** 0 = no preference. */
  readonly suggestedExternalPort: number;
  /** Default: the all-zeros address of the client's family (no preference). */
  readonly suggestedExternalAddress?: string;
  readonly options?: readonly PcpOption[];
}

export interface PcpResponseHeader {
  readonly version: number;
  readonly opcode: number;
  readonly resultCode: number;
  /** On success the granted lifetime; on error how long the error is expected to last. */
  readonly lifetimeS: number;
  readonly epochS: number;
}

export interface PcpMapResponse extends PcpResponseHeader {
  readonly nonce: Uint8Array;
  readonly protocol: number;
  readonly internalPort: number;
  readonly assignedExternalPort: number;
  readonly assignedExternalAddress: string;
  readonly options: readonly PcpOption[];
}

export function encodePcpMapRequest(r: PcpMapRequest): Uint8Array {
  if (r.nonce.length !== PCP_NONCE_BYTES) throw new PortControlError('malformed', 'PCP nonce must be 96 bits');
  const options = r.options ?? [];
  const optionBytes = options.reduce((n, o) => n + 4 + pad4(o.data.length), 0);
  const buf = Buffer.alloc(PCP_HEADER_BYTES + PCP_MAP_BYTES + optionBytes);
  if (buf.length > PCP_MAX_MESSAGE_BYTES) throw new PortControlError('malformed', 'PCP request over 1100 bytes');
  buf[0] = PCP_VERSION;
  buf[1] = PCP_OPCODE_MAP; // R bit 0: a request
  buf.writeUInt32BE(checkU32(r.lifetimeS, 'lifetime'), 4);
  const client = toPcpAddress(r.clientAddress);
  buf.set(client, 8);
  let at = PCP_HEADER_BYTES;
  buf.set(r.nonce, at);
  buf[at + 12] = IANA_PROTOCOL[r.protocol];
  buf.writeUInt16BE(checkPort(r.internalPort, 1), at + 16);
  buf.writeUInt16BE(checkPort(r.suggestedExternalPort, 0), at + 18);
  // RFC 6887 §11.1: no preference is the all-zeros address of the internal address's family.
  const ipv4 = client.subarray(0, 12).every((b, i) => b === (i >= 10 ? 0xff : 0));
  buf.set(r.suggestedExternalAddress ? toPcpAddress(r.suggestedExternalAddress) : toPcpAddress(ipv4 ? '0.0.0.0' : '::'), at + 20);
  at += PCP_MAP_BYTES;
  for (const o of options) {
    if (!Number.isInteger(o.code) || o.code < 0 || o.code > 255 || o.data.length > 0xffff) throw new PortControlError('malformed', 'bad PCP option');
    buf[at] = o.code;
    buf.writeUInt16BE(o.data.length, at + 2);
    buf.set(o.data, at + 4);
    at += 4 + pad4(o.data.length);
  }
  return buf;
}

/** RFC 6887 §8.3: a response shorter than 24, longer than 1100, or not a multiple of 4 is dropped. */
export function decodePcpResponseHeader(bytes: Uint8Array): PcpResponseHeader {
  if (bytes.length < PCP_HEADER_BYTES || bytes.length > PCP_MAX_MESSAGE_BYTES || bytes.length % 4 !== 0) {
    throw new PortControlError('malformed', `PCP response of ${bytes.length} bytes`, { protocol: 'pcp' });
  }
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const byte1 = b[1] ?? 0;
  if ((byte1 & 0x80) === 0) throw new PortControlError('malformed', 'PCP message is a request, not a response', { protocol: 'pcp' });
  return { version: b[0] ?? 0, opcode: byte1 & 0x7f, resultCode: b[3] ?? 0, lifetimeS: b.readUInt32BE(4), epochS: b.readUInt32BE(8) };
}

/** Decodes a MAP response. An error response may stop after the header; its MAP fields are then absent. */
export function decodePcpMapResponse(bytes: Uint8Array): PcpMapResponse | PcpResponseHeader {
  const header = decodePcpResponseHeader(bytes);
  if (header.opcode !== PCP_OPCODE_MAP) throw new PortControlError('malformed', `PCP opcode ${header.opcode}, expected MAP`, { protocol: 'pcp' });
  if (bytes.length < PCP_HEADER_BYTES + PCP_MAP_BYTES) {
    if (header.resultCode === PCP_RESULT_SUCCESS) throw new PortControlError('malformed', 'PCP MAP success without MAP fields', { protocol: 'pcp' });
    return header;
  }
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const at = PCP_HEADER_BYTES;
  return {
    ...header,
    nonce: Uint8Array.from(b.subarray(at, at + PCP_NONCE_BYTES)),
    protocol: b[at + 12] ?? 0,
    internalPort: b.readUInt16BE(at + 16),
    assignedExternalPort: b.readUInt16BE(at + 18),
    assignedExternalAddress: fromPcpAddress(b.subarray(at + 20, at + 36)),
    options: decodeOptions(b.subarray(at + PCP_MAP_BYTES)),
  };
}

export function isPcpMapResponse(r: PcpMapResponse | PcpResponseHeader): r is PcpMapResponse {
  return 'nonce' in r;
}

function decodeOptions(b: Buffer): PcpOption[] {
  const out: PcpOption[] = [];
  let at = 0;
  while (at < b.length) {
    if (at + 4 > b.length) throw new PortControlError('malformed', 'PCP option header runs past the end', { protocol: 'pcp' });
    const length = b.readUInt16BE(at + 2);
    if (at + 4 + length > b.length) throw new PortControlError('malformed', 'PCP option runs past the end', { protocol: 'pcp' });
    out.push({ code: b[at] ?? 0, data: Uint8Array.from(b.subarray(at + 4, at + 4 + length)) });
    at += 4 + pad4(length);
  }
  return out;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

function checkU32(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new PortControlError('malformed', `bad ${what} ${n}`);
  return n;
}

function checkPort(n: number, min: number): number {
  if (!Number.isInteger(n) || n < min || n > 65535) throw new PortControlError('malformed', `bad port ${n}`);
  return n;
}

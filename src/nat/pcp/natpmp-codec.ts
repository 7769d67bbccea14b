// NAT-PMP messages (RFC 6886 §3.2, §3.3): the external address request and the UDP/TCP mapping
// request, and their responses. Pure encode/decode; every response is checked for its layout.
import { PortControlError } from './port-control-error.js';

export const NATPMP_VERSION = 0;
export const NATPMP_OPCODE_EXTERNAL_ADDRESS = 0;
export const NATPMP_OPCODE_MAP = { udp: 1, tcp: 2 } as const;
/** Responses carry the request's opcode plus 128 (RFC 6886 §3.2). */
export const NATPMP_RESPONSE_BIT = 128;
export const NATPMP_RESULT_SUCCESS = 0;
/** RFC 6886 §3.3: the lifetime a client should ask for. */
export const NATPMP_RECOMMENDED_LIFETIME_S = 7200;

export type NatPmpProtocol = keyof typeof NATPMP_OPCODE_MAP;

export interface NatPmpMapRequest {
  readonly protocol: NatPmpProtocol;
  readonly internalPort: number;
  /** 0 = no preference; RFC 6886 §3.4: must be 0 when deleting. */
  readonly suggestedExternalPort: number;
  /** 0 deletes the mapping. */
  readonly lifetimeS: number;
}

/** The header every response starts with (RFC 6886 §3.5): error responses may carry no more. */
export interface NatPmpResponseHeader {
  readonly version: number;
  readonly opcode: number;
  readonly resultCode: number;
  readonly epochS: number;
}

export type NatPmpResponse =
  | (NatPmpResponseHeader & { readonly kind: 'error' })
  | (NatPmpResponseHeader & { readonly kind: 'external-address'; readonly externalAddress: string })
  | (NatPmpResponseHeader & {
      readonly kind: 'map';
      readonly protocol: NatPmpProtocol;
      readonly internalPort: number;
      readonly externalPort: number;
      readonly lifetimeS: number;
    });

export function encodeNatPmpExternalAddressRequest(): Uint8Array {
  return Uint8Array.of(NATPMP_VERSION, NATPMP_OPCODE_EXTERNAL_ADDRESS);
}

export function encodeNatPmpMapRequest(r: NatPmpMapRequest): Uint8Array {
  const b = Buffer.alloc(12);
  b[0] = NATPMP_VERSION;
  b[1] = NATPMP_OPCODE_MAP[r.protocol];
  if (!Number.isInteger(r.internalPort) || r.internalPort < 1 || r.internalPort > 65535) throw new PortControlError('malformed', `bad internal port ${r.internalPort}`);
  if (!Number.isInteger(r.suggestedExternalPort) || r.suggestedExternalPort < 0 || r.suggestedExternalPort > 65535) throw new PortControlError('malformed', 'bad suggested port');
  if (!Number.isInteger(r.lifetimeS) || r.lifetimeS < 0 || r.lifetimeS > 0xffffffff) throw new PortControlError('malformed', 'bad lifetime');
  b.writeUInt16BE(r.internalPort, 4);
  b.writeUInt16BE(r.lifetimeS === 0 ? 0 : r.suggestedExternalPort, 6);
  b.writeUInt32BE(r.lifetimeS, 8);
  return b;
}

/**
 * Decodes a NAT-PMP response. Successful answers must have their full length (12 bytes for the
 * external address, 16 for a mapping); a non-zero result needs only the 8-byte header.
 */
export function decodeNatPmpResponse(bytes: Uint8Array): NatPmpResponse {
  const fail = (why: string): PortControlError => new PortControlError('malformed', `NAT-PMP response: ${why}`, { protocol: 'natpmp' });
  if (bytes.length < 8 || bytes.length > 1100) throw fail(`${bytes.length} bytes`);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const header: NatPmpResponseHeader = { version: b[0] ?? 0, opcode: b[1] ?? 0, resultCode: b.readUInt16BE(2), epochS: b.readUInt32BE(4) };
  if (header.version !== NATPMP_VERSION) throw fail(`version ${header.version}`);
  if (header.opcode < NATPMP_RESPONSE_BIT) throw fail('a request, not a response');
  if (header.resultCode !== NATPMP_RESULT_SUCCESS) return { ...header, kind: 'error' };
  const request = header.opcode - NATPMP_RESPONSE_BIT;
  if (request === NATPMP_OPCODE_EXTERNAL_ADDRESS) {
    if (b.length < 12) throw fail('external address answer shorter than 12 bytes');
    return { ...header, kind: 'external-address', externalAddress: [...b.subarray(8, 12)].join('.') };
  }
  const protocol = request === NATPMP_OPCODE_MAP.udp ? 'udp' : request === NATPMP_OPCODE_MAP.tcp ? 'tcp' : undefined;
  if (!protocol) throw fail(`unknown opcode ${header.opcode}`);
  if (b.length < 16) throw fail('mapping answer shorter than 16 bytes');
  return { ...header, kind: 'map', protocol, internalPort: b.readUInt16BE(8), externalPort: b.readUInt16BE(10), lifetimeS: b.readUInt32BE(12) };
}

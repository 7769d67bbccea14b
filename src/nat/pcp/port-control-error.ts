// PCP (RFC 6887 §7.4) and NAT-PMP (RFC 6886 §3.5) failures as one typed error. A server's result
// code becomes `code` by its PCP name (NAT-PMP's codes map onto the same names), so callers write
// `err.code === 'UNSUPP_VERSION'` whichever protocol answered.
import { CodedError } from '../../util/index.js';

/** RFC 6887 §7.4 result codes other than SUCCESS, by number. */
export const PCP_RESULT_NAMES = {
  1: 'UNSUPP_VERSION',
  2: 'NOT_AUTHORIZED',
  3: 'MALFORMED_REQUEST',
  4: 'UNSUPP_OPCODE',
  5: 'UNSUPP_OPTION',
  6: 'MALFORMED_OPTION',
  7: 'NETWORK_FAILURE',
  8: 'NO_RESOURCES',
  9: 'UNSUPP_PROTOCOL',
  10: 'USER_EX_QUOTA',
  11: 'CANNOT_PROVIDE_EXTERNAL',
  12: 'ADDRESS_MISMATCH',
  13: 'EXCESSIVE_REMOTE_PEERS',
} as const;

/** RFC 6886 §3.5 result codes, under the PCP name that means the same. */
export const NATPMP_RESULT_NAMES = {
  1: 'UNSUPP_VERSION',
  2: 'NOT_AUTHORIZED',
  3: 'NETWORK_FAILURE',
  4: 'NO_RESOURCES',
  5: 'UNSUPP_OPCODE',
} as const;

export type PortControlResultName = (typeof PCP_RESULT_NAMES)[keyof typeof PCP_RESULT_NAMES] | 'UNKNOWN_RESULT';

export type PortControlErrorCode =
  | PortControlResultName
  /** No answer after the retransmissions the request was given. */
  | 'timeout'
  /** A datagram that breaks the RFC's layout, or a value the encoder cannot put on the wire. */
  | 'malformed'
  /** The socket reported an error (e.g. ICMP port unreachable: no server on 5351). */
  | 'network'
  /** No default gateway to talk to. */
  | 'no-gateway'
  | 'closed';

export type PortControlProtocol = 'pcp' | 'natpmp';

export class PortControlError extends CodedError<PortControlErrorCode> {
  constructor(
    code: PortControlErrorCode,
    message: string,
    readonly details: {
      readonly protocol?: PortControlProtocol;
      /** The result code number as sent. */
      readonly resultCode?: number;
      /** PCP error responses: how long the error is expected to last (RFC 6887 §7.2). */
      readonly lifetimeS?: number;
    } = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

export function resultError(protocol: PortControlProtocol, resultCode: number, lifetimeS?: number): PortControlError {
  const names: Readonly<Record<number, PortControlResultName>> = protocol === 'pcp' ? PCP_RESULT_NAMES : NATPMP_RESULT_NAMES;
  const name = names[resultCode] ?? 'UNKNOWN_RESULT';
  return new PortControlError(name, `${protocol === 'pcp' ? 'PCP' : 'NAT-PMP'} result ${resultCode} (${name})`, {
    protocol,
    resultCode,
    ...(lifetimeS !== undefined ? { lifetimeS } : {}),
  });
}

import { CodedError } from '../../util/errors.js';

export type TransportName = 'UDP' | 'TCP' | 'TLS';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** Where to send, and what the transaction layer calls a peer. */
export interface Destination extends Endpoint {
  readonly transport: TransportName | string;
  /** Reliable transports need no retransmission timers. */
  readonly reliable: boolean;
  /** The stream a request arrived on (responses go back on it while it is open, §18.2.2). */
  readonly connectionId?: string;
  /** TLS: the host name to verify and send as SNI. */
  readonly serverName?: string;
}

export class TransportError extends CodedError<'unsupported' | 'closed' | 'too-many-connections' | 'connect-failed' | 'send-failed'> {}

export function isReliable(transport: string): boolean {
  return transport.toUpperCase() !== 'UDP';
}

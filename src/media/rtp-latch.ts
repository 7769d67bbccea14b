// Where to send RTP, and which received packets to believe. RFC 4961 (symmetric RTP) lets a
// peer behind a NAT be reached at the address its packets come from rather than the one in its
// SDP; "latching" onto any source would let a stranger who sprays packets at our port divert
// the call's audio to itself. So the target moves only after `packetsToSwitch` consecutive
// packets from one new source that carry the expected SSRC and a negotiated payload type.
//
// The expected SSRC is the first one seen from the SDP address or, while nothing has come from
// there, the first one seen at all. Pure: the driver feeds it each packet's source and header.

export interface TransportAddress {
  readonly address: string;
  readonly port: number;
}

export type LatchVerdict =
  /** From the current target: deliver. */
  | { readonly kind: 'accept' }
  /** A packet from a new source that qualifies; `count` of `packetsToSwitch` so far. Not delivered. */
  | { readonly kind: 'candidate'; readonly count: number }
  /** The `packetsToSwitch`-th qualifying packet: the target is now `target`. Deliver. */
  | { readonly kind: 'switch'; readonly target: TransportAddress; readonly previous: TransportAddress }
  /** A stranger's packet, or any packet with a payload type that was not negotiated. */
  | { readonly kind: 'reject'; readonly reason: 'payload-type' | 'ssrc' };

export const DEFAULT_PACKETS_TO_SWITCH = 5;

export interface RtpLatchOptions {
  /** The connection address and port from the peer's SDP. */
  readonly remote: TransportAddress;
  readonly payloadTypes: readonly number[];
  readonly packetsToSwitch?: number;
}

export class RtpLatch {
  private sdpRemote: TransportAddress;
  private current: TransportAddress;
  private payloadTypes: ReadonlySet<number>;
  private readonly packetsToSwitch: number;
  private expected: { ssrc: number; fromSdpAddress: boolean } | undefined;
  private candidate: { from: TransportAddress; count: number } | undefined;

  constructor(opts: RtpLatchOptions) {
    this.sdpRemote = opts.remote;
    this.current = opts.remote;
    this.payloadTypes = new Set(opts.payloadTypes);
    this.packetsToSwitch = Math.max(1, opts.packetsToSwitch ?? DEFAULT_PACKETS_TO_SWITCH);
  }

  get target(): TransportAddress {
    return this.current;
  }

  get expectedSsrc(): number | undefined {
    return this.expected?.ssrc;
  }

  /** A new offer/answer: the SDP address becomes the target again and everything learnt is forgotten. */
  reset(remote: TransportAddress, payloadTypes: readonly number[]): void {
    this.sdpRemote = remote;
    this.current = remote;
    this.payloadTypes = new Set(payloadTypes);
    this.expected = undefined;
    this.candidate = undefined;
  }

  receive(from: TransportAddress, ssrc: number, payloadType: number): LatchVerdict {
    if (!this.payloadTypes.has(payloadType)) return this.reject(from, 'payload-type');
    if (sameTransportAddress(from, this.sdpRemote) && !this.expected?.fromSdpAddress) {
      this.expected = { ssrc, fromSdpAddress: true };
    } else if (!this.expected) {
      this.expected = { ssrc, fromSdpAddress: false };
    }
    if (sameTransportAddress(from, this.current)) {
      // The target is alive, so a run from elsewhere is not a move; it starts over.
      this.candidate = undefined;
      return { kind: 'accept' };
    }
    if (ssrc !== this.expected.ssrc) return this.reject(from, 'ssrc');
    const count = this.candidate && sameTransportAddress(this.candidate.from, from) ? this.candidate.count + 1 : 1;
    if (count < this.packetsToSwitch) {
      this.candidate = { from, count };
      return { kind: 'candidate', count };
    }
    const previous = this.current;
    this.current = { address: from.address, port: from.port };
    this.candidate = undefined;
    return { kind: 'switch', target: this.current, previous };
  }

  /** A packet that does not qualify ends its own source's run ("consecutive"); other sources' runs go on. */
  private reject(from: TransportAddress, reason: 'payload-type' | 'ssrc'): LatchVerdict {
    if (this.candidate && sameTransportAddress(this.candidate.from, from)) this.candidate = undefined;
    return { kind: 'reject', reason };
  }
}

/** Same IP and port; an IPv4-mapped IPv6 address equals its IPv4 form. */
export function sameTransportAddress(a: TransportAddress, b: TransportAddress): boolean {
  return a.port === b.port && unmapped(a.address).toLowerCase() === unmapped(b.address).toLowerCase();
}

function unmapped(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

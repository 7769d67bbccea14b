// The sending half of one RTP stream: SSRC, sequence number and timestamp (RFC 3550 §5.1).
// Pure; the session driver hands the bytes to its socket.
import { randomBytes } from 'node:crypto';
import { RtpError, encodeRtp } from './rtp-packet.js';

export interface RtpStreamStart {
  readonly ssrc: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
}

/**
 * RFC 3550 §5.1: the initial sequence number and timestamp SHOULD be random (unpredictable, so
 * known-plaintext attacks on encryption are harder); §8.1: the SSRC is chosen at random.
 */
export function randomStreamStart(): RtpStreamStart {
  const r = randomBytes(10);
  return { ssrc: r.readUInt32BE(0), sequenceNumber: r.readUInt16BE(4), timestamp: r.readUInt32BE(6) };
}

export class RtpPacketizer {
  readonly ssrc: number;
  private seq: number;
  private ts: number;
  private packets = 0;
  private octets = 0;

  constructor(
    start: RtpStreamStart,
    private readonly payloadType: number,
  ) {
    if (!Number.isInteger(payloadType) || payloadType < 0 || payloadType > 0x7f) {
      throw new RtpError('invalid-field', `payload type ${payloadType} is not in 0..127`);
    }
    this.ssrc = start.ssrc >>> 0;
    this.seq = start.sequenceNumber & 0xffff;
    this.ts = start.timestamp >>> 0;
  }

  /**
   * The next packet, stamped with the current sequence number and timestamp; then both advance.
   * `payloadType` overrides the stream's own for one packet (telephone-event, a renegotiated codec).
   */
  packetize(payload: Uint8Array, samples: number, marker = false, payloadType = this.payloadType): Uint8Array {
    checkSamples(samples);
    const bytes = encodeRtp({
      marker,
      payloadType,
      sequenceNumber: this.seq,
      timestamp: this.ts,
      ssrc: this.ssrc,
      payload,
    });
    this.seq = (this.seq + 1) & 0xffff;
    this.advanceTimestamp(samples);
    this.packets++;
    this.octets += payload.length;
    return bytes;
  }

  /** Time passes without a packet (silence suppression, a skipped frame): only the timestamp moves. */
  advanceTimestamp(samples: number): void {
    checkSamples(samples);
    this.ts = (this.ts + samples) >>> 0;
  }

  get nextSequenceNumber(): number {
    return this.seq;
  }

  get nextTimestamp(): number {
    return this.ts;
  }

  /** RFC 3550 §6.4.1 sender's packet and octet (payload only) counts. */
  get packetCount(): number {
    return this.packets;
  }

  get octetCount(): number {
    return this.octets;
  }
}

function checkSamples(samples: number): void {
  if (!Number.isInteger(samples) || samples < 0) throw new RtpError('invalid-field', `samples ${samples} is not a non-negative integer`);
}

// ITU-T G.107 (06/2015) E-model, narrowband, for a call-quality estimate from what RTCP and the
// jitter buffer tell us. Every parameter the phone cannot measure keeps its G.107 Table 3
// default (loudness ratings, room noise, TELR 65 dB, WEPL 110 dB, A = 0), which reduces the
// model to the usual simplified form
//
//   R = 93.2 − Id − Ie,eff
//
// 93.2 is Ro − Is − Id at zero delay with those defaults, so Id here is the delay impairment
// over that of zero delay: G.107 §7.4's Idte (talker echo), Idle (listener echo) and Idd (pure
// delay), with the echo path delay T and the absolute delay Ta both the one-way delay, and the
// round trip Tr twice it.
//
// Codec values are from G.113 Appendix I. They are on the narrowband R scale (0..100); the
// wideband scale (G.107.1, Ie,wb, R up to 129) rates G.722 and Opus better than G.711, and we
// do not model that yet: on this scale a wideband codec is at best as good as G.711.

/** Codec names as in the SDP layer and the settings registry. */
export type EModelCodec = 'PCMU' | 'PCMA' | 'G722' | 'opus';

export interface CodecImpairment {
  /** Equipment impairment factor Ie at zero loss. */
  readonly ie: number;
  /** Packet-loss robustness factor Bpl with the decoder's loss concealment on. */
  readonly bplWithPlc: number;
  /** Bpl when lost packets are played as silence. */
  readonly bplWithoutPlc: number;
  /** Algorithmic look-ahead on top of one frame, ms. */
  readonly lookaheadMs: number;
}

export const CODEC_IMPAIRMENTS: Readonly<Record<EModelCodec, CodecImpairment>> = {
  // G.113 Table I.1: G.711 Ie = 0; Table I.3: Bpl = 25.1 with G.711 Appendix I PLC, 4.3 without.
  PCMU: { ie: 0, bplWithPlc: 25.1, bplWithoutPlc: 4.3, lookaheadMs: 0 },
  PCMA: { ie: 0, bplWithPlc: 25.1, bplWithoutPlc: 4.3, lookaheadMs: 0 },
  // Narrowband scale (see the top): G.722 at 64 kbit/s counted as G.711, its concealment (G.722
  // Appendix III/IV) as good as G.711 Appendix I's. Its Ie,wb and Bpl,wb belong to G.107.1.
  G722: { ie: 0, bplWithPlc: 25.1, bplWithoutPlc: 4.3, lookaheadMs: 0 },
  // Not in G.113. Conservative: Ie = 10, about G.729A's 11, though Opus at the bitrates we offer
  // does better than G.711 in listening tests; Bpl = 20, about G.729A's 19, for the concealment
  // built into its decoder (so `plc` changes nothing), in-band FEC not counted. Look-ahead
  // 6.5 ms (RFC 6716 §2: 26.5 ms algorithmic delay for 20 ms frames).
  opus: { ie: 10, bplWithPlc: 20, bplWithoutPlc: 20, lookaheadMs: 6.5 },
};

/** R with every G.107 Table 3 default and zero delay, loss and codec impairment. */
export const R_DEFAULT = 93.2;

// G.107 Table 3 defaults behind the delay terms: Ro = 15 − 1.5(SLR + No) with No = −61.18 dBm0p,
// and Roe = −1.5(No − RLR); both come to 94.77.
const RO = 94.77;
const ROE = 94.77;
const TELR_DB = 65;
const WEPL_DB = 110;

/** G.107 §7.4 Idte: talker echo, with the default TELR and the echo path delay `tMs`. */
export function talkerEchoImpairment(tMs: number): number {
  const terv = TELR_DB - 40 * Math.log10((1 + tMs / 10) / (1 + tMs / 150)) + 6 * Math.exp(-0.3 * tMs * tMs);
  const re = 80 + 2.5 * (terv - 14);
  const d = ROE - re;
  return (d / 2 + Math.sqrt((d * d) / 4 + 100) - 1) * (1 - Math.exp(-tMs));
}

/** G.107 §7.4 Idle: listener echo, with the default WEPL and the round-trip delay `trMs`. */
export function listenerEchoImpairment(trMs: number): number {
  const rle = 10.5 * (WEPL_DB + 7) * Math.pow(trMs + 1, -0.25);
  const d = RO - rle;
  return d / 2 + Math.sqrt((d * d) / 4 + 169);
}

/** G.107 §7.4 Idd: the impairment of the absolute delay `taMs` itself (mT = 100 ms, sT = 1). */
export function pureDelayImpairment(taMs: number): number {
  if (taMs <= 100) return 0;
  const x = Math.log10(taMs / 100) / Math.log10(2);
  return 25 * (Math.pow(1 + x ** 6, 1 / 6) - 3 * Math.pow(1 + (x / 3) ** 6, 1 / 6) + 2);
}

/** Id for a one-way delay, over the Id of zero delay that R_DEFAULT already holds. */
export function delayImpairment(oneWayDelayMs: number): number {
  checkNonNegative('oneWayDelayMs', oneWayDelayMs);
  const id = (t: number): number => talkerEchoImpairment(t) + listenerEchoImpairment(2 * t) + pureDelayImpairment(t);
  return id(oneWayDelayMs) - id(0);
}

/**
 * G.107 §7.5: Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl), with Ppl the loss in percent
 * and BurstR 1 for random loss (above 1 when losses come in bursts).
 */
export function effectiveEquipmentImpairment(ie: number, bpl: number, lossPercent: number, burstR = 1): number {
  if (!(lossPercent >= 0 && lossPercent <= 100)) throw new RangeError(`lossPercent must be in 0..100, got ${lossPercent}`);
  if (!(burstR > 0)) throw new RangeError(`burstR must be positive, got ${burstR}`);
  return ie + ((95 - ie) * lossPercent) / (lossPercent / burstR + bpl);
}

export interface RFactorInput {
  readonly oneWayDelayMs: number;
  readonly lossPercent: number;
  readonly codec: EModelCodec;
  /** Whether lost packets are concealed (PacketLossConcealer) rather than played as silence. */
  readonly plc: boolean;
  /** G.107 burst ratio; default 1 (random loss). */
  readonly burstR?: number;
}

/** R = 93.2 − Id − Ie,eff. */
export function rFactor(input: RFactorInput): number {
  const codec = CODEC_IMPAIRMENTS[input.codec];
  const bpl = input.plc ? codec.bplWithPlc : codec.bplWithoutPlc;
  return R_DEFAULT - delayImpairment(input.oneWayDelayMs) - effectiveEquipmentImpairment(codec.ie, bpl, input.lossPercent, input.burstR);
}

/**
 * G.107 Annex B (B-4): the conversational MOS (MOS-CQE) of a rating R, 1..4.5. The cubic dips
 * just under 1 for 0 < R < 6.5; the MOS scale has no such values, so it is held at 1 there.
 */
export function rToMos(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return Math.max(1, 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6);
}

export interface CallQualityInput {
  /** Round-trip time from RTCP (RFC 3550 §6.4.1 LSR/DLSR); half of it is the network's one-way delay. */
  readonly rttMs: number;
  /** RFC 3550 A.8 interarrival jitter; only used to estimate the buffer delay when that is not given. */
  readonly jitterMs: number;
  /** Packets lost in the network or discarded late by the jitter buffer, percent. */
  readonly lossPercent: number;
  readonly codec: EModelCodec;
  readonly plc: boolean;
  /** The jitter buffer's current playout delay; default twice the jitter. */
  readonly jitterBufferDelayMs?: number;
  /** Packet time, the framing delay; default 20. */
  readonly ptimeMs?: number;
  readonly burstR?: number;
}

export interface CallQuality {
  readonly r: number;
  readonly mos: number;
  /** Mouth-to-ear estimate: half the RTT, the jitter buffer, one frame and the codec look-ahead. */
  readonly oneWayDelayMs: number;
}

/** The E-model estimate of a call from its RTCP and jitter-buffer figures. */
export function callQuality(input: CallQualityInput): CallQuality {
  checkNonNegative('rttMs', input.rttMs);
  checkNonNegative('jitterMs', input.jitterMs);
  const bufferMs = input.jitterBufferDelayMs ?? 2 * input.jitterMs;
  checkNonNegative('jitterBufferDelayMs', bufferMs);
  const ptimeMs = input.ptimeMs ?? 20;
  checkNonNegative('ptimeMs', ptimeMs);
  const oneWayDelayMs = input.rttMs / 2 + bufferMs + ptimeMs + CODEC_IMPAIRMENTS[input.codec].lookaheadMs;
  const r = rFactor({
    oneWayDelayMs,
    lossPercent: input.lossPercent,
    codec: input.codec,
    plc: input.plc,
    ...(input.burstR === undefined ? {} : { burstR: input.burstR }),
  });
  return { r, mos: rToMos(r), oneWayDelayMs };
}

function checkNonNegative(name: string, value: number): void {
  if (!(value >= 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be a finite number >= 0, got ${value}`);
}

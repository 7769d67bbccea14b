// RFC 3264 offer/answer for one audio stream: the offer we send, the answer we give to an offer,
// and what an answer to our offer leaves us with. No I/O and no address choice: the caller
// brings the addresses and ports (from the port manager) and the session version (RFC 3264 §8:
// one higher for every new offer).
import {
  LOCAL_CODECS, LOCAL_TELEPHONE_EVENT, localTelephoneEvents, sameFormat, telephoneEventFor, type Codec, type CodecName, type LocalCodec,
} from './codecs.js';
import { mutualDirection, type Direction } from './direction.js';
import { ipFamily, type IpFamily } from './media-address.js';
import { SdpError } from './sdp-error.js';
import { audioSection, rejectedSection, writeSessionDescription, type MediaSection } from './sdp-writer.js';
import { optional, type AudioDescription, type AudioMedia } from './session-description.js';

export interface LocalMedia {
  /** The address for c= and o=, IPv4 or IPv6, as the port manager gave it. */
  readonly address: string;
  readonly rtpPort: number;
  /** Where we receive RTCP apart from RTP; RTP + 1 when left out. */
  readonly rtcpPort?: number;
  /** In order of preference. */
  readonly codecs: readonly CodecName[];
  /** Offer or accept RFC 4733 telephone-event (DTMF), at the RTP clock rate of the codec in use. */
  readonly telephoneEvent: boolean;
  /** The packetization we want to receive (RFC 4566 §6 a=ptime). */
  readonly ptimeMs: number;
  /** What we want for the stream; see holdDirection for hold and resume. */
  readonly direction: Direction;
  readonly sessionId: number | bigint;
  readonly sessionVersion: number | bigint;
  readonly username: string;
  /** Offer or accept RTP and RTCP on one port (RFC 5761). */
  readonly rtcpMux: boolean;
}

/** The outcome of one offer/answer exchange, as the media layer needs it. */
export interface Negotiated {
  /** The one codec both sides use, with the payload type the peer listed and the peer's fmtp. */
  readonly codec: LocalCodec;
  /** The peer's telephone-event at the codec's RTP clock rate (RFC 4733 §2.1); absent: no RFC 4733 DTMF. */
  readonly telephoneEventPt?: number;
  readonly remoteAddress: string;
  readonly remoteRtpPort: number;
  readonly remoteRtcpAddress: string;
  readonly remoteRtcpPort: number;
  readonly rtcpMux: boolean;
  /** What we do: send only if it sends, receive only if it receives. */
  readonly localDirection: Direction;
  readonly remoteDirection: Direction;
  /** The packetization to send with: the peer's a=ptime, else ours. */
  readonly ptimeMs: number;
}

export type AnswerResult =
  | { readonly ok: true; readonly sdp: string; readonly negotiated: Negotiated }
  | { readonly ok: false; readonly error: SdpError };

export type NegotiationResult =
  | { readonly ok: true; readonly negotiated: Negotiated }
  | { readonly ok: false; readonly error: SdpError };

/** The offer for our one audio stream, codecs in our order of preference. */
export function createOffer(local: LocalMedia): string {
  const family = checkLocalMedia(local);
  const audio = audioSection({
    port: local.rtpPort,
    rtcpPort: local.rtcpPort ?? local.rtpPort + 1,
    rtcpMux: local.rtcpMux,
    codecs: localCodecs(local),
    telephoneEvents: local.telephoneEvent ? localTelephoneEvents(localCodecs(local)) : [],
    ptimeMs: local.ptimeMs,
    direction: local.direction,
  });
  return write(local, family, [audio]);
}

/**
 * Answers an offer (RFC 3264 §6): every m= line in its place, the audio stream with the first of
 * our codecs the offer has (RFC 3264 §6.1 lets the answerer order by its own preference), every
 * other line rejected with port 0. The answer names that one codec only, at the offer's payload
 * type, so the peer cannot switch to a codec the media layer was not given. No common codec gives
 * 'no-common-codec', which the caller answers with 488.
 */
export function createAnswer(offer: AudioDescription, local: LocalMedia): AnswerResult {
  const family = checkLocalMedia(local);
  const remote = offer.audio;
  const match = firstMatch(localCodecs(local), (ours) => remote.codecs.find((theirs) => sameFormat(ours, theirs)));
  if (match === undefined) return failure('no-common-codec', `none of ${local.codecs.join(', ')} is in the offer`);
  const [ours, theirs] = match;
  const negotiated = negotiate(offer, theirs, ours, local);
  const telephoneEvent = local.telephoneEvent ? telephoneEventFor(ours, remote.telephoneEvents) : undefined;

  const audio = audioSection({
    port: local.rtpPort,
    ...optional('rtcpPort', negotiated.rtcpMux ? undefined : local.rtcpPort ?? local.rtpPort + 1),
    rtcpMux: negotiated.rtcpMux,
    codecs: [{ ...ours, payloadType: theirs.payloadType }],
    telephoneEvents: telephoneEvent ? [{ ...telephoneEvent, fmtp: LOCAL_TELEPHONE_EVENT.fmtp }] : [],
    ptimeMs: local.ptimeMs,
    direction: negotiated.localDirection,
  });
  const media: MediaSection[] = offer.others.map(rejectedSection);
  media.splice(offer.audioIndex, 0, audio);
  return { ok: true, sdp: write(local, family, media), negotiated };
}

/**
 * Reads the answer to an offer made by createOffer(local): one m= line, as offered, and the first
 * codec in the answer's list that we offered (RFC 3264 §7).
 */
export function acceptAnswer(local: LocalMedia, answer: AudioDescription): NegotiationResult {
  checkLocalMedia(local);
  if (answer.audioIndex !== 0 || answer.others.length > 0) {
    return failure('answer-mismatch', `the answer has ${answer.others.length + 1} m= lines for our one (RFC 3264 §6)`);
  }
  const ours = localCodecs(local);
  const match = firstMatch(answer.audio.codecs, (theirs) => ours.find((o) => sameFormat(o, theirs)));
  if (match === undefined) return failure('no-common-codec', 'the answer names none of the codecs we offered');
  const [theirs, mine] = match;
  return { ok: true, negotiated: negotiate(answer, theirs, mine, local) };
}

/** Both directions of the exchange end here: the peer's description against what we want. */
function negotiate(remoteSdp: AudioDescription, theirs: Codec, ours: LocalCodec, local: LocalMedia): Negotiated {
  const remote: AudioMedia = remoteSdp.audio;
  const rtcpMux = remote.rtcpMux && local.rtcpMux;
  const telephoneEvent = local.telephoneEvent ? telephoneEventFor(ours, remote.telephoneEvents) : undefined;
  return {
    codec: { name: ours.name, payloadType: theirs.payloadType, clockRateHz: ours.clockRateHz, channels: ours.channels, ...optional('fmtp', theirs.fmtp) },
    ...optional('telephoneEventPt', telephoneEvent?.payloadType),
    remoteAddress: remoteSdp.connectionAddress,
    remoteRtpPort: remote.port,
    remoteRtcpAddress: rtcpMux ? remoteSdp.connectionAddress : remote.rtcpAddress ?? remoteSdp.connectionAddress,
    remoteRtcpPort: rtcpMux ? remote.port : remote.rtcpPort,
    rtcpMux,
    localDirection: mutualDirection(remote.direction, local.direction),
    remoteDirection: remote.direction,
    ptimeMs: remote.ptimeMs ?? local.ptimeMs,
  };
}

function localCodecs(local: LocalMedia): LocalCodec[] {
  return [...new Set(local.codecs)].map((name) => LOCAL_CODECS[name]);
}

function firstMatch<A, B>(list: readonly A[], find: (a: A) => B | undefined): [A, B] | undefined {
  for (const a of list) {
    const b = find(a);
    if (b !== undefined) return [a, b];
  }
  return undefined;
}

function failure(code: 'no-common-codec' | 'answer-mismatch', message: string): { ok: false; error: SdpError } {
  return { ok: false, error: new SdpError(code, message) };
}

function write(local: LocalMedia, family: IpFamily, media: readonly MediaSection[]): string {
  return writeSessionDescription({
    username: local.username,
    sessionId: String(local.sessionId),
    sessionVersion: String(local.sessionVersion),
    address: local.address,
    family,
    media,
  });
}

/** Our own media settings are the caller's to get right; a wrong one throws 'bad-local-media'. */
function checkLocalMedia(local: LocalMedia): IpFamily {
  const bad = (why: string) => new SdpError('bad-local-media', why);
  const isPort = (p: number) => Number.isInteger(p) && p >= 1 && p <= 65535;
  const isCounter = (n: number | bigint) => (typeof n === 'bigint' ? n >= 0n && n < 2n ** 64n : Number.isSafeInteger(n) && n >= 0);
  const family = ipFamily(local.address);
  if (family === undefined) throw bad(`address "${local.address}" is not an IP literal`);
  if (!isPort(local.rtpPort) || (local.rtcpPort !== undefined && !isPort(local.rtcpPort))) throw bad('ports must be 1..65535');
  if (local.codecs.length === 0 || !local.codecs.every((c) => Object.hasOwn(LOCAL_CODECS, c))) throw bad('codecs must be a non-empty list of known codecs');
  if (!(local.ptimeMs > 0 && local.ptimeMs <= 1000)) throw bad(`ptime ${local.ptimeMs} ms is out of range`);
  // RFC 4566 §5.2: the username is a non-whitespace token.
  if (!/^[!-~]+$/.test(local.username)) throw bad('the username must be visible ASCII without spaces');
  if (!isCounter(local.sessionId) || !isCounter(local.sessionVersion)) throw bad('session id and version must be integers 0..2^64-1');
  return family;
}

// The audio formats a session description can name, and the ones this phone can use.

/** The codecs the media layer implements, by their RTP encoding names. */
export type CodecName = 'PCMU' | 'PCMA' | 'G722' | 'opus';

/** One RTP payload format of an m= line (RFC 4566 §6 a=rtpmap, RFC 3551 §6 static types). */
export interface Codec {
  readonly payloadType: number;
  /** The encoding name as the SDP spelled it; compare without case (RFC 4855 §3). */
  readonly name: string;
  readonly clockRateHz: number;
  readonly channels: number;
  readonly fmtp?: string;
}

/** RFC 4733 named telephone events (DTMF) carried in their own payload type. */
export interface TelephoneEvent {
  readonly payloadType: number;
  readonly clockRateHz: number;
}

export interface LocalCodec extends Codec {
  readonly name: CodecName;
}

/** What we put in an offer for each codec; dynamic payload types are ours to choose (RFC 3551 §3). */
export const LOCAL_CODECS: Readonly<Record<CodecName, LocalCodec>> = {
  PCMU: { name: 'PCMU', payloadType: 0, clockRateHz: 8000, channels: 1 },
  PCMA: { name: 'PCMA', payloadType: 8, clockRateHz: 8000, channels: 1 },
  // RFC 3551 §4.5.2: G.722 samples at 16 kHz but its RTP clock runs at 8000 Hz.
  G722: { name: 'G722', payloadType: 9, clockRateHz: 8000, channels: 1 },
  // RFC 7587 §7: opus is always described as opus/48000/2, whatever it actually carries. §6.1:
  // we play and capture at most 16 kHz (a peer need not spend bits above), and we do not claim
  // useinbandfec=1, since our decoder (opusscript's glue) cannot read in-band FEC.
  opus: { name: 'opus', payloadType: 111, clockRateHz: 48000, channels: 2, fmtp: 'maxplaybackrate=16000;sprop-maxcapturerate=16000' },
};

export const LOCAL_TELEPHONE_EVENT = { payloadType: 101, clockRateHz: 8000, fmtp: '0-16' } as const;
/** RFC 7587 §4.1 and RFC 4733 §2.1: events in an opus stream count in its 48 kHz RTP clock. */
export const LOCAL_TELEPHONE_EVENT_48K = { payloadType: 110, clockRateHz: 48000, fmtp: '0-16' } as const;

/**
 * The telephone-event formats we offer with these codecs: one per RTP clock rate among them, so
 * whichever codec the answer picks has events that share its timestamps (RFC 4733 §2.1).
 */
export function localTelephoneEvents(codecs: readonly LocalCodec[]): Array<TelephoneEvent & { readonly fmtp: string }> {
  return [LOCAL_TELEPHONE_EVENT, LOCAL_TELEPHONE_EVENT_48K].filter((e) => codecs.some((c) => c.clockRateHz === e.clockRateHz));
}

/** The peer's telephone-event with the codec's clock rate; events at another rate would not share the audio's timestamps. */
export function telephoneEventFor(codec: { readonly clockRateHz: number }, events: readonly TelephoneEvent[]): TelephoneEvent | undefined {
  return events.find((e) => e.clockRateHz === codec.clockRateHz);
}

export const TELEPHONE_EVENT_NAME = 'telephone-event';

/** RFC 3551 §6: static payload types a peer may list without an a=rtpmap. */
export const STATIC_PAYLOAD_TYPES: ReadonlyMap<number, Codec> = new Map(
  [LOCAL_CODECS.PCMU, LOCAL_CODECS.PCMA, LOCAL_CODECS.G722].map((c) => [c.payloadType, c]),
);

export function isCodecName(name: string): name is CodecName {
  return Object.hasOwn(LOCAL_CODECS, name);
}

/** Whether a peer's format is our codec: same encoding name (any case), clock rate and channels. */
export function sameFormat(ours: LocalCodec, theirs: Codec): boolean {
  return ours.name.toLowerCase() === theirs.name.toLowerCase()
    && ours.clockRateHz === theirs.clockRateHz
    && ours.channels === theirs.channels;
}

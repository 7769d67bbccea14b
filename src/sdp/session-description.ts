// A peer's session description (RFC 4566) read into the one audio stream this phone can use.
// sdp-transform does the grammar; everything it returns is checked here, with limits, so code
// past this file trusts its types.
import { parse } from 'sdp-transform';
import { LOCAL_TELEPHONE_EVENT, STATIC_PAYLOAD_TYPES, TELEPHONE_EVENT_NAME, type Codec, type TelephoneEvent } from './codecs.js';
import { isDirection, withoutReceiving, type Direction } from './direction.js';
import { checkMediaAddress, ipFamily, printable, type IpFamily, type MediaAddressOptions } from './media-address.js';
import { SdpError } from './sdp-error.js';

export const MAX_SDP_BYTES = 16 * 1024;
export const MAX_MEDIA_LINES = 16;
export const MAX_FORMATS_PER_MEDIA = 64;

const MAX_PORT = 65535;
const MAX_PAYLOAD_TYPE = 127;
const MAX_PTIME_MS = 1000;
const AUDIO_PROTOCOL = 'RTP/AVP';

export interface Origin {
  readonly username: string;
  readonly sessionId: string;
  /** A number while it is a safe integer, else the decimal text (BigInt() reads it). */
  readonly sessionVersion: number | string;
  readonly address: string;
}

export interface AudioMedia {
  readonly port: number;
  /** From a=rtcp (RFC 3605), else port + 1 (RFC 3550 §11). */
  readonly rtcpPort: number;
  /** RFC 3605's optional address in a=rtcp, when it names one. */
  readonly rtcpAddress?: string;
  /** The peer offers or accepts RTP and RTCP on one port (RFC 5761 a=rtcp-mux). */
  readonly rtcpMux: boolean;
  /** The peer's direction: media level over session level, sendrecv by default (RFC 4566 §6), narrowed by an old-style hold. */
  readonly direction: Direction;
  /** The connection address was 0.0.0.0 (or ::): RFC 3264 §8.4 hold, so we must not send to it. */
  readonly oldStyleHold: boolean;
  readonly ptimeMs?: number;
  /** The formats in the peer's order of preference, telephone-event left out. */
  readonly codecs: readonly Codec[];
  /** The telephone-event the peer lists at 8000 Hz, else its first one. */
  readonly telephoneEvent?: TelephoneEvent;
  /** Every telephone-event format the peer lists, one per clock rate that it names (the first wins). */
  readonly telephoneEvents: readonly TelephoneEvent[];
}

/** An m= line we do not use, kept so an answer can reject it in its place (RFC 3264 §6). */
export interface OtherMedia {
  readonly index: number;
  readonly type: string;
  readonly port: number;
  readonly protocol: string;
  readonly formats: readonly string[];
}

export interface AudioDescription {
  readonly origin: Origin;
  /** Where the audio goes: its media-level c=, else the session-level one. */
  readonly connectionAddress: string;
  readonly audio: AudioMedia;
  /** The position of the audio m= line among all of them. */
  readonly audioIndex: number;
  readonly others: readonly OtherMedia[];
}

export type ParseOptions = MediaAddressOptions;

/**
 * Reads an SDP body. The audio stream is the first RTP/AVP audio m= line with a non-zero port;
 * every other line (video, a second audio stream, SRTP) is kept as OtherMedia. Throws SdpError,
 * and only SdpError, for anything it cannot use.
 */
export function parseSessionDescription(body: Uint8Array | string, options: ParseOptions = {}): AudioDescription {
  const text = decode(body);
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[0] !== 'v=0') throw new SdpError('bad-version', 'an SDP body starts with v=0 (RFC 4566 §5.1)');
  const mediaLines = lines.filter((l) => l.startsWith('m=')).length;
  if (mediaLines > MAX_MEDIA_LINES) throw new SdpError('too-many-media', `${mediaLines} m= lines, at most ${MAX_MEDIA_LINES}`);

  const session = readSdp(text);
  const origin = readOrigin(session.origin);
  const media = session.media.map((raw, index) => ({ raw, line: readMediaLine(raw, index) }));
  const audio = media.find(({ line }) => line.type === 'audio' && line.port !== 0 && line.protocol.toUpperCase() === AUDIO_PROTOCOL);
  if (audio === undefined) throw new SdpError('no-audio', 'no RTP/AVP audio stream with a non-zero port');

  const { address: connectionAddress, family } = readConnection(audio.raw.connection ?? session.connection);
  const use = checkMediaAddress(connectionAddress, audio.line.port, options);
  if (ipFamily(connectionAddress) !== family) throw new SdpError('bad-connection', `c= says ${family} but ${connectionAddress} is not`);
  const declared = readDirection(audio.raw.direction) ?? readDirection(session.direction) ?? 'sendrecv';
  return {
    origin,
    connectionAddress,
    audio: {
      port: audio.line.port,
      ...readRtcp(audio.raw, audio.line.port, connectionAddress, options),
      direction: use === 'hold' ? withoutReceiving(declared) : declared,
      oldStyleHold: use === 'hold',
      ...optional('ptimeMs', readPtime(audio.raw.ptime ?? session.ptime)),
      ...readFormats(audio.raw, audio.line.formats),
    },
    audioIndex: audio.line.index,
    others: media.filter((m) => m !== audio).map(({ line }) => line),
  };
}

// sdp-transform's typings promise numbers, but its parser keeps any text that does not read back
// as the same number ('', '007', a huge session id), so its output is read as loose scalars.
type Scalar = string | number | undefined;
interface RawConnection { readonly version?: Scalar; readonly ip?: Scalar }
interface RawShared { readonly connection?: RawConnection; readonly direction?: Scalar; readonly ptime?: Scalar }
interface RawMedia extends RawShared {
  readonly type?: Scalar;
  readonly port?: Scalar;
  readonly protocol?: Scalar;
  readonly payloads?: Scalar;
  readonly rtp: ReadonlyArray<{ readonly payload?: Scalar; readonly codec?: Scalar; readonly rate?: Scalar; readonly encoding?: Scalar }>;
  readonly fmtp: ReadonlyArray<{ readonly payload?: Scalar; readonly config?: Scalar }>;
  readonly rtcp?: { readonly port?: Scalar; readonly ipVer?: Scalar; readonly address?: Scalar };
  readonly rtcpMux?: Scalar;
}
interface RawSession extends RawShared {
  readonly origin?: { [K in 'username' | 'sessionId' | 'sessionVersion' | 'netType' | 'ipVer' | 'address']?: Scalar };
  readonly media: readonly RawMedia[];
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function decode(body: Uint8Array | string): string {
  // A string's UTF-8 length is at least its UTF-16 length: measure it only when that is in bounds.
  const tooLarge = typeof body === 'string'
    ? body.length > MAX_SDP_BYTES || Buffer.byteLength(body) > MAX_SDP_BYTES
    : body.byteLength > MAX_SDP_BYTES;
  if (tooLarge) throw new SdpError('too-large', `SDP body over ${MAX_SDP_BYTES} bytes`);
  let text: string;
  try {
    text = typeof body === 'string' ? body : decoder.decode(body);
  } catch (err) {
    throw new SdpError('bad-encoding', 'SDP body is not UTF-8', { cause: err });
  }
  // RFC 4566 §5: no field may hold a NUL.
  if (text.includes('\0')) throw new SdpError('bad-encoding', 'SDP body holds a NUL character');
  return text;
}

function readSdp(text: string): RawSession {
  try {
    return parse(text) as unknown as RawSession;
  } catch (err) {
    throw new SdpError('bad-syntax', 'SDP grammar error', { cause: err });
  }
}

function readOrigin(raw: RawSession['origin']): Origin {
  const username = raw?.username === undefined ? '' : String(raw.username);
  const sessionId = String(raw?.sessionId ?? '');
  const sessionVersion = String(raw?.sessionVersion ?? '');
  const address = raw?.address === undefined ? '' : String(raw.address);
  const numeric = /^\d{1,20}$/;
  if (raw === undefined || username === '' || !numeric.test(sessionId) || !numeric.test(sessionVersion)
    || raw.netType !== 'IN' || (raw.ipVer !== 4 && raw.ipVer !== 6) || address === '') {
    throw new SdpError('bad-origin', 'o= needs a username, numeric session id and version, IN IP4|IP6 and an address (RFC 4566 §5.2)');
  }
  const version = Number(sessionVersion);
  return { username, sessionId, sessionVersion: Number.isSafeInteger(version) ? version : sessionVersion, address };
}

function readMediaLine(raw: RawMedia, index: number): OtherMedia {
  const type = raw.type === undefined ? '' : String(raw.type);
  const protocol = raw.protocol === undefined ? '' : String(raw.protocol);
  if (type === '' || protocol === '' || raw.port === undefined) {
    throw new SdpError('bad-media-line', `m= line ${index + 1} is not "media port proto fmt ..." (RFC 4566 §5.14)`);
  }
  const port = readInt(raw.port, MAX_PORT);
  if (port === undefined) throw new SdpError('bad-port', `m= line ${index + 1} has port "${printable(String(raw.port))}"`);
  const formats = String(raw.payloads ?? '').split(/[ \t]+/).filter((f) => f !== '');
  if (formats.length > MAX_FORMATS_PER_MEDIA) {
    throw new SdpError('too-many-formats', `m= line ${index + 1} lists ${formats.length} formats, at most ${MAX_FORMATS_PER_MEDIA}`);
  }
  if (formats.length === 0 || !formats.every((f) => /^[!-~]+$/.test(f))) {
    throw new SdpError('bad-media-line', `m= line ${index + 1} needs a list of formats`);
  }
  return { index, type, port, protocol, formats };
}

function readConnection(raw: RawConnection | undefined): { address: string; family: IpFamily } {
  if (raw === undefined) throw new SdpError('bad-connection', 'the audio stream has no c= line (RFC 4566 §5.7)');
  const family = raw.version === 4 ? 'IP4' : raw.version === 6 ? 'IP6' : undefined;
  if (family === undefined) throw new SdpError('bad-connection', 'c= must be IN IP4 or IN IP6');
  return { address: String(raw.ip ?? ''), family };
}

function readRtcp(raw: RawMedia, port: number, connectionAddress: string, options: ParseOptions): Pick<AudioMedia, 'rtcpPort' | 'rtcpAddress' | 'rtcpMux'> {
  const rtcpMux = raw.rtcpMux === 'rtcp-mux';
  if (raw.rtcp === undefined) {
    if (port === MAX_PORT && !rtcpMux) throw new SdpError('bad-port', `RTP port ${port} leaves no port for RTCP`);
    return { rtcpPort: rtcpMux && port === MAX_PORT ? port : port + 1, rtcpMux };
  }
  const rtcpPort = readInt(raw.rtcp.port, MAX_PORT);
  if (rtcpPort === undefined || rtcpPort === 0) throw new SdpError('bad-port', 'a=rtcp needs a port between 1 and 65535');
  const address = raw.rtcp.address === undefined ? undefined : String(raw.rtcp.address);
  checkMediaAddress(address ?? connectionAddress, rtcpPort, options);
  return { rtcpPort, rtcpMux, ...optional('rtcpAddress', address) };
}

function readFormats(raw: RawMedia, formats: readonly string[]): Pick<AudioMedia, 'codecs' | 'telephoneEvent' | 'telephoneEvents'> {
  const payloadTypes = formats.map((f) => {
    const pt = /^\d{1,3}$/.test(f) ? Number(f) : NaN;
    if (!(pt <= MAX_PAYLOAD_TYPE)) throw new SdpError('bad-format', `RTP payload type "${printable(f)}" is not 0..127`);
    return pt;
  });
  const rtpmaps = new Map<number, Codec>();
  for (const entry of raw.rtp) {
    const payloadType = readInt(entry.payload, MAX_PAYLOAD_TYPE);
    if (payloadType === undefined || !payloadTypes.includes(payloadType) || rtpmaps.has(payloadType)) continue;
    const name = entry.codec === undefined ? '' : String(entry.codec);
    const clockRateHz = readInt(entry.rate, 0xffffffff);
    const channels = entry.encoding === undefined ? 1 : readInt(entry.encoding, 255);
    if (name === '' || clockRateHz === undefined || clockRateHz === 0 || channels === undefined || channels === 0) {
      throw new SdpError('bad-rtpmap', `a=rtpmap for payload type ${payloadType} is not "name/rate[/channels]" (RFC 4566 §6)`);
    }
    rtpmaps.set(payloadType, { payloadType, name, clockRateHz, channels });
  }
  const fmtps = new Map<number, string>();
  for (const entry of raw.fmtp) {
    const payloadType = readInt(entry.payload, MAX_PAYLOAD_TYPE);
    const config = String(entry.config ?? '').trim();
    if (payloadType !== undefined && config !== '' && !fmtps.has(payloadType)) fmtps.set(payloadType, config);
  }

  const codecs: Codec[] = [];
  const events: TelephoneEvent[] = [];
  for (const payloadType of new Set(payloadTypes)) {
    const known = rtpmaps.get(payloadType) ?? STATIC_PAYLOAD_TYPES.get(payloadType);
    if (known === undefined) continue; // a dynamic type without a=rtpmap: nothing to match it against
    if (known.name.toLowerCase() === TELEPHONE_EVENT_NAME) {
      if (!events.some((e) => e.clockRateHz === known.clockRateHz)) events.push({ payloadType, clockRateHz: known.clockRateHz });
    } else {
      codecs.push({ ...known, payloadType, ...optional('fmtp', fmtps.get(payloadType)) });
    }
  }
  // The RTP clock of every codec but opus runs at 8000 Hz, so the events at that clock come first.
  const telephoneEvent = events.find((e) => e.clockRateHz === LOCAL_TELEPHONE_EVENT.clockRateHz) ?? events[0];
  return { codecs, ...optional('telephoneEvent', telephoneEvent), telephoneEvents: events };
}

function readDirection(value: Scalar): Direction | undefined {
  return isDirection(value) ? value : undefined;
}

/** RFC 4566 §6: a=ptime is only a preference, so a value we cannot use is dropped, not refused. */
function readPtime(value: Scalar): number | undefined {
  const ms = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,4}(\.\d{1,3})?$/.test(value) ? Number(value) : NaN;
  return ms > 0 && ms <= MAX_PTIME_MS ? ms : undefined;
}

function readInt(value: Scalar, max: number): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= max ? n : undefined;
}

/** `{ [key]: value }` when value is defined, else nothing: optional properties under exactOptionalPropertyTypes. */
export function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

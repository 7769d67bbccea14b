// Writes the session descriptions we send. By hand rather than with sdp-transform's writer: that
// one prints the o= version with %d (losing digits past 2^53) and copies text without checking it.
import type { Codec, TelephoneEvent } from './codecs.js';
import type { Direction } from './direction.js';
import type { IpFamily } from './media-address.js';

export interface MediaSection {
  readonly type: string;
  readonly port: number;
  readonly protocol: string;
  readonly formats: readonly (string | number)[];
  /** Attribute values without the leading "a=". */
  readonly attributes: readonly string[];
}

export interface SessionSection {
  readonly username: string;
  readonly sessionId: string;
  readonly sessionVersion: string;
  readonly address: string;
  readonly family: IpFamily;
  readonly media: readonly MediaSection[];
}

/** RFC 4566 §5: v, o, s, c, t, then the media sections; CRLF after every line. */
export function writeSessionDescription(s: SessionSection): string {
  const lines = [
    'v=0',
    `o=${s.username} ${s.sessionId} ${s.sessionVersion} IN ${s.family} ${s.address}`,
    's=-',
    `c=IN ${s.family} ${s.address}`,
    't=0 0',
  ];
  for (const m of s.media) {
    lines.push(`m=${m.type} ${m.port} ${m.protocol} ${m.formats.join(' ')}`, ...m.attributes.map((a) => `a=${a}`));
  }
  return `${lines.join('\r\n')}\r\n`;
}

export interface AudioSectionParams {
  readonly port: number;
  /** Our RTCP port when we may receive RTCP apart from RTP: always in an offer, not in an answer that muxes. */
  readonly rtcpPort?: number;
  readonly rtcpMux: boolean;
  readonly codecs: readonly Codec[];
  /** RFC 4733 formats, one per clock rate, after the codecs. */
  readonly telephoneEvents?: ReadonlyArray<TelephoneEvent & { readonly fmtp: string }>;
  readonly ptimeMs: number;
  readonly direction: Direction;
}

export function audioSection(p: AudioSectionParams): MediaSection {
  const formats = [...p.codecs, ...(p.telephoneEvents ?? []).map((e) => ({ ...e, name: 'telephone-event', channels: 1 }))];
  const attributes = [
    ...formats.flatMap((c) => [
      `rtpmap:${c.payloadType} ${c.name}/${c.clockRateHz}${c.channels > 1 ? `/${c.channels}` : ''}`,
      ...(c.fmtp === undefined ? [] : [`fmtp:${c.payloadType} ${c.fmtp}`]),
    ]),
    `ptime:${p.ptimeMs}`,
    // RFC 3605: only an RTCP port that is not RTP + 1 needs saying.
    ...(p.rtcpPort !== undefined && p.rtcpPort !== p.port + 1 ? [`rtcp:${p.rtcpPort}`] : []),
    ...(p.rtcpMux ? ['rtcp-mux'] : []),
    p.direction,
  ];
  return { type: 'audio', port: p.port, protocol: 'RTP/AVP', formats: formats.map((c) => c.payloadType), attributes };
}

/** RFC 3264 §6: a rejected stream keeps its place, with port 0 and the offered formats. */
export function rejectedSection(offered: { readonly type: string; readonly protocol: string; readonly formats: readonly string[] }): MediaSection {
  return { type: offered.type, port: 0, protocol: offered.protocol, formats: offered.formats, attributes: [] };
}

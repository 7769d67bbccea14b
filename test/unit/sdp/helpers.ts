import assert from 'node:assert/strict';
import { SdpError, type LocalMedia, type SdpErrorCode } from '../../../src/sdp/index.js';

/** An SDP body from its lines, CRLF after each (RFC 4566 §5). */
export const sdp = (...lines: string[]): string => `${lines.join('\r\n')}\r\n`;

/** The RFC examples name hosts; we read address literals only, so they stand in as documentation addresses (RFC 5737). */
export const ALICE_IP = '192.0.2.1';
export const BOB_IP = '198.51.100.2';

export function local(overrides: Partial<LocalMedia> = {}): LocalMedia {
  return {
    address: '203.0.113.5',
    rtpPort: 40000,
    codecs: ['PCMU', 'PCMA'],
    telephoneEvent: false,
    ptimeMs: 20,
    direction: 'sendrecv',
    sessionId: 1000,
    sessionVersion: 1,
    username: 'deskphone',
    rtcpMux: false,
    ...overrides,
  };
}

/** A minimal offer from a peer at 192.0.2.1 with the given audio m= payload list and extra audio attributes. */
export function peerOffer(formats: string, ...audioAttributes: string[]): string {
  return sdp('v=0', `o=peer 1 1 IN IP4 ${ALICE_IP}`, 's=-', `c=IN IP4 ${ALICE_IP}`, 't=0 0', `m=audio 49170 RTP/AVP ${formats}`, ...audioAttributes);
}

/** Runs fn and checks it throws an SdpError with this code, and nothing else. */
export function throwsSdp(fn: () => unknown, code: SdpErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SdpError, `expected SdpError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

/** The m= lines and a= lines of an SDP body, in order. */
export const mediaLines = (body: string): string[] => body.split('\r\n').filter((l) => l.startsWith('m='));
export const audioAttributes = (body: string): string[] => {
  const lines = body.split('\r\n');
  const start = lines.findIndex((l) => l.startsWith('m=audio') && !l.startsWith('m=audio 0 '));
  const end = lines.findIndex((l, i) => i > start && l.startsWith('m='));
  return lines.slice(start + 1, end < 0 ? undefined : end).filter((l) => l.startsWith('a='));
};

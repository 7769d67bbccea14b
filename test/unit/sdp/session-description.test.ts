import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSessionDescription } from '../../../src/sdp/index.js';
import { ALICE_IP, BOB_IP, peerOffer, sdp, throwsSdp } from './helpers.js';

// RFC 3264 §10.1, Alice's first offer (host names replaced by address literals).
const RFC3264_10_1_OFFER = sdp(
  'v=0',
  `o=alice 2890844526 2890844526 IN IP4 ${ALICE_IP}`,
  's=',
  `c=IN IP4 ${ALICE_IP}`,
  't=0 0',
  'm=audio 49170 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  'm=video 51372 RTP/AVP 31',
  'a=rtpmap:31 H261/90000',
  'm=video 53000 RTP/AVP 32',
  'a=rtpmap:32 MPV/90000',
);

test('RFC 3264 §10.1 offer: origin, audio stream and the two video lines kept for rejection', () => {
  const d = parseSessionDescription(RFC3264_10_1_OFFER);
  assert.deepEqual(d.origin, { username: 'alice', sessionId: '2890844526', sessionVersion: 2890844526, address: ALICE_IP });
  assert.equal(d.connectionAddress, ALICE_IP);
  assert.equal(d.audioIndex, 0);
  assert.deepEqual(d.audio, {
    port: 49170,
    rtcpPort: 49171,
    rtcpMux: false,
    direction: 'sendrecv',
    oldStyleHold: false,
    codecs: [{ payloadType: 0, name: 'PCMU', clockRateHz: 8000, channels: 1 }],
    telephoneEvents: [],
  });
  assert.deepEqual(d.others, [
    { index: 1, type: 'video', port: 51372, protocol: 'RTP/AVP', formats: ['31'] },
    { index: 2, type: 'video', port: 53000, protocol: 'RTP/AVP', formats: ['32'] },
  ]);
});

test('the same body as bytes parses to the same description', () => {
  assert.deepEqual(parseSessionDescription(new TextEncoder().encode(RFC3264_10_1_OFFER)), parseSessionDescription(RFC3264_10_1_OFFER));
});

test('the RFC examples as printed, with host names in c=, are refused: the SDP layer resolves nothing', () => {
  throwsSdp(() => parseSessionDescription(RFC3264_10_1_OFFER.replaceAll(`IN IP4 ${ALICE_IP}`, 'IN IP4 host.anywhere.com')), 'bad-connection');
});

test('static payload types 0, 8 and 9 are known without a=rtpmap; dynamic ones without it are skipped', () => {
  const d = parseSessionDescription(peerOffer('9 0 8 97 18'));
  assert.deepEqual(d.audio.codecs.map((c) => [c.payloadType, c.name, c.clockRateHz, c.channels]), [
    [9, 'G722', 8000, 1],
    [0, 'PCMU', 8000, 1],
    [8, 'PCMA', 8000, 1],
  ]);
});

test('a=rtpmap and a=fmtp describe dynamic types; telephone-event is split from the codecs', () => {
  const d = parseSessionDescription(peerOffer('96 0 100', 'a=rtpmap:96 opus/48000/2', 'a=fmtp:96 minptime=10; useinbandfec=1',
    'a=rtpmap:100 telephone-event/8000', 'a=fmtp:100 0-15'));
  assert.deepEqual(d.audio.codecs, [
    { payloadType: 96, name: 'opus', clockRateHz: 48000, channels: 2, fmtp: 'minptime=10; useinbandfec=1' },
    { payloadType: 0, name: 'PCMU', clockRateHz: 8000, channels: 1 },
  ]);
  assert.deepEqual(d.audio.telephoneEvent, { payloadType: 100, clockRateHz: 8000 });
});

test('of several telephone-event types the one at 8000 Hz is the default, and one per clock rate is kept', () => {
  const d = parseSessionDescription(peerOffer('111 110 101 102', 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:110 telephone-event/48000',
    'a=rtpmap:101 telephone-event/8000', 'a=rtpmap:102 telephone-event/8000'));
  assert.deepEqual(d.audio.telephoneEvent, { payloadType: 101, clockRateHz: 8000 });
  assert.deepEqual(d.audio.telephoneEvents, [{ payloadType: 110, clockRateHz: 48000 }, { payloadType: 101, clockRateHz: 8000 }]);
});

test('direction: media level overrides session level, session level applies, default is sendrecv', () => {
  const withSession = (dir: string, ...media: string[]) => sdp('v=0', `o=p 1 1 IN IP4 ${ALICE_IP}`, 's=-', `c=IN IP4 ${ALICE_IP}`,
    't=0 0', dir, 'm=audio 49170 RTP/AVP 0', ...media);
  assert.equal(parseSessionDescription(withSession('a=sendonly')).audio.direction, 'sendonly');
  assert.equal(parseSessionDescription(withSession('a=sendonly', 'a=inactive')).audio.direction, 'inactive');
  assert.equal(parseSessionDescription(withSession('a=tool:x', 'a=recvonly')).audio.direction, 'recvonly');
  assert.equal(parseSessionDescription(withSession('a=tool:x')).audio.direction, 'sendrecv');
});

test('c=0.0.0.0 is RFC 3264 §8.4 hold: the peer receives nothing, so sendrecv reads as sendonly and recvonly as inactive', () => {
  const held = (dir: string) => sdp('v=0', `o=p 1 2 IN IP4 ${ALICE_IP}`, 's=-', 'c=IN IP4 0.0.0.0', 't=0 0', 'm=audio 49170 RTP/AVP 0', dir);
  const a = parseSessionDescription(held('a=sendrecv'));
  assert.equal(a.connectionAddress, '0.0.0.0');
  assert.equal(a.audio.oldStyleHold, true);
  assert.equal(a.audio.direction, 'sendonly');
  assert.equal(parseSessionDescription(held('a=recvonly')).audio.direction, 'inactive');
});

test('media-level c= wins over the session level, and IPv6 connections are read', () => {
  const d = parseSessionDescription(sdp('v=0', 'o=p 1 1 IN IP6 2001:db8::9', 's=-', `c=IN IP4 ${ALICE_IP}`, 't=0 0',
    'm=audio 49170 RTP/AVP 0', 'c=IN IP6 2001:db8::7'));
  assert.equal(d.connectionAddress, '2001:db8::7');
  assert.equal(d.origin.address, '2001:db8::9');
});

test('RTCP: a=rtcp port and address (RFC 3605), rtcp-mux (RFC 5761), else RTP port + 1', () => {
  const plain = parseSessionDescription(peerOffer('0'));
  assert.equal(plain.audio.rtcpPort, 49171);
  assert.equal(plain.audio.rtcpAddress, undefined);
  const explicit = parseSessionDescription(peerOffer('0', `a=rtcp:53020 IN IP4 ${BOB_IP}`, 'a=rtcp-mux'));
  assert.equal(explicit.audio.rtcpPort, 53020);
  assert.equal(explicit.audio.rtcpAddress, BOB_IP);
  assert.equal(explicit.audio.rtcpMux, true);
  throwsSdp(() => parseSessionDescription(peerOffer('0', 'a=rtcp:0')), 'bad-port');
  throwsSdp(() => parseSessionDescription(peerOffer('0', 'a=rtcp:53020 IN IP4 239.0.0.1')), 'multicast');
});

test('a=ptime is read when usable and dropped when not', () => {
  assert.equal(parseSessionDescription(peerOffer('0', 'a=ptime:30')).audio.ptimeMs, 30);
  assert.equal(parseSessionDescription(peerOffer('0', 'a=ptime:2.5')).audio.ptimeMs, 2.5);
  assert.equal(parseSessionDescription(peerOffer('0', 'a=ptime:0')).audio.ptimeMs, undefined);
  assert.equal(parseSessionDescription(peerOffer('0', 'a=ptime:99999')).audio.ptimeMs, undefined);
});

test('a session version past 2^53 is kept exactly, as decimal text', () => {
  const d = parseSessionDescription(sdp('v=0', `o=- 18446744073709551615 18446744073709551615 IN IP4 ${ALICE_IP}`, 's=-',
    `c=IN IP4 ${ALICE_IP}`, 't=0 0', 'm=audio 49170 RTP/AVP 0'));
  assert.equal(d.origin.sessionId, '18446744073709551615');
  assert.equal(d.origin.sessionVersion, '18446744073709551615');
  assert.equal(BigInt(d.origin.sessionVersion), 2n ** 64n - 1n);
});

test('the audio stream is the first RTP/AVP audio line with a port; SRTP and disabled audio lines stay in others', () => {
  const d = parseSessionDescription(sdp('v=0', `o=p 1 1 IN IP4 ${ALICE_IP}`, 's=-', `c=IN IP4 ${ALICE_IP}`, 't=0 0',
    'm=audio 0 RTP/AVP 0', 'm=audio 50000 RTP/SAVP 0', 'm=video 51372 RTP/AVP 31', 'm=audio 52000 RTP/AVP 8', 'm=audio 53000 RTP/AVP 0'));
  assert.equal(d.audioIndex, 3);
  assert.equal(d.audio.port, 52000);
  assert.deepEqual(d.others.map((o) => [o.index, o.type, o.port, o.protocol]), [
    [0, 'audio', 0, 'RTP/AVP'],
    [1, 'audio', 50000, 'RTP/SAVP'],
    [2, 'video', 51372, 'RTP/AVP'],
    [4, 'audio', 53000, 'RTP/AVP'],
  ]);
});

test('low ports are accepted when the caller allows them', () => {
  const body = peerOffer('0').replace('m=audio 49170', 'm=audio 80');
  throwsSdp(() => parseSessionDescription(body), 'bad-port');
  assert.equal(parseSessionDescription(body, { allowLowPorts: true }).audio.port, 80);
});

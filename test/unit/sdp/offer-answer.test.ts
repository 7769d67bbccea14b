import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  SdpError, acceptAnswer, createAnswer, createOffer, parseSessionDescription,
  type AnswerResult, type Direction, type NegotiationResult,
} from '../../../src/sdp/index.js';
import { ALICE_IP, BOB_IP, audioAttributes, local, mediaLines, peerOffer, sdp, throwsSdp } from './helpers.js';

function answered(result: AnswerResult): { sdp: string; negotiated: Extract<AnswerResult, { ok: true }>['negotiated'] } {
  assert.ok(result.ok, result.ok ? '' : `${result.error.code}: ${result.error.message}`);
  return result;
}
function accepted(result: NegotiationResult): Extract<NegotiationResult, { ok: true }>['negotiated'] {
  assert.ok(result.ok, result.ok ? '' : `${result.error.code}: ${result.error.message}`);
  return result.negotiated;
}
const answerTo = (offer: string, overrides: Parameters<typeof local>[0] = {}) =>
  answered(createAnswer(parseSessionDescription(offer), local(overrides)));

// ---- RFC 3264 §10.1 (host names replaced by address literals) ----

test('RFC 3264 §10.1: Bob answers Alice\'s audio with PCMU and rejects both video streams with port 0', () => {
  const offer = sdp('v=0', `o=alice 2890844526 2890844526 IN IP4 ${ALICE_IP}`, 's=', `c=IN IP4 ${ALICE_IP}`, 't=0 0',
    'm=audio 49170 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'm=video 51372 RTP/AVP 31', 'a=rtpmap:31 H261/90000',
    'm=video 53000 RTP/AVP 32', 'a=rtpmap:32 MPV/90000');
  const bob = local({ address: BOB_IP, rtpPort: 49920, codecs: ['PCMU'], username: 'bob', sessionId: 2890844730, sessionVersion: 2890844730 });
  const { sdp: answer, negotiated } = answered(createAnswer(parseSessionDescription(offer), bob));
  assert.equal(answer, sdp('v=0', `o=bob 2890844730 2890844730 IN IP4 ${BOB_IP}`, 's=-', `c=IN IP4 ${BOB_IP}`, 't=0 0',
    'm=audio 49920 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=ptime:20', 'a=sendrecv',
    'm=video 0 RTP/AVP 31',
    'm=video 0 RTP/AVP 32'));
  assert.deepEqual(negotiated, {
    codec: { name: 'PCMU', payloadType: 0, clockRateHz: 8000, channels: 1 },
    remoteAddress: ALICE_IP,
    remoteRtpPort: 49170,
    remoteRtcpAddress: ALICE_IP,
    remoteRtcpPort: 49171,
    rtcpMux: false,
    localDirection: 'sendrecv',
    remoteDirection: 'sendrecv',
    ptimeMs: 20,
  });
});

test('RFC 3264 §10.1: Bob\'s re-offer moves his audio port; Alice keeps the m= lines in place and rejects the extra audio stream', () => {
  const reoffer = sdp('v=0', `o=bob 2890844730 2890844731 IN IP4 ${BOB_IP}`, 's=', `c=IN IP4 ${BOB_IP}`, 't=0 0',
    'm=audio 65422 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'm=video 0 RTP/AVP 31', 'm=video 53000 RTP/AVP 32', 'a=rtpmap:32 MPV/90000',
    'm=audio 51434 RTP/AVP 110', 'a=rtpmap:110 telephone-events/8000', 'a=recvonly');
  const alice = local({ address: ALICE_IP, rtpPort: 49170, codecs: ['PCMU'], username: 'alice', sessionId: 2890844526, sessionVersion: 2890844527 });
  const { sdp: answer, negotiated } = answered(createAnswer(parseSessionDescription(reoffer), alice));
  assert.deepEqual(mediaLines(answer), ['m=audio 49170 RTP/AVP 0', 'm=video 0 RTP/AVP 31', 'm=video 0 RTP/AVP 32', 'm=audio 0 RTP/AVP 110']);
  assert.match(answer, new RegExp(`^o=alice 2890844526 2890844527 IN IP4 ${ALICE_IP}\\r$`, 'm'));
  assert.equal(negotiated.remoteAddress, BOB_IP);
  assert.equal(negotiated.remoteRtpPort, 65422);
});

test('RFC 3264 §10.1 from Alice\'s side: our offer, Bob\'s answer, and what we negotiated', () => {
  const alice = local({ address: ALICE_IP, rtpPort: 49170, codecs: ['PCMU'], username: 'alice', sessionId: 2890844526, sessionVersion: 2890844526 });
  const offer = createOffer(alice);
  assert.equal(offer, sdp('v=0', `o=alice 2890844526 2890844526 IN IP4 ${ALICE_IP}`, 's=-', `c=IN IP4 ${ALICE_IP}`, 't=0 0',
    'm=audio 49170 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=ptime:20', 'a=sendrecv'));
  const answer = sdp('v=0', `o=bob 2890844730 2890844730 IN IP4 ${BOB_IP}`, 's=', `c=IN IP4 ${BOB_IP}`, 't=0 0',
    'm=audio 49920 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000');
  const n = accepted(acceptAnswer(alice, parseSessionDescription(answer)));
  assert.equal(n.codec.name, 'PCMU');
  assert.equal(n.remoteAddress, BOB_IP);
  assert.equal(n.remoteRtpPort, 49920);
  assert.equal(n.remoteRtcpPort, 49921);
  assert.equal(n.localDirection, 'sendrecv');
});

// ---- RFC 3264 §10.2 ----

test('RFC 3264 §10.2: an inactive offer of PCMU, G723 and G729 is answered inactive with the one codec we share', () => {
  const offer = sdp('v=0', `o=alice 2890844526 2890844526 IN IP4 ${ALICE_IP}`, 's=', `c=IN IP4 ${ALICE_IP}`, 't=0 0',
    'm=audio 62986 RTP/AVP 0 4 18', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:4 G723/8000', 'a=rtpmap:18 G729/8000', 'a=inactive');
  const { sdp: answer, negotiated } = answerTo(offer, { rtpPort: 54344 });
  assert.deepEqual(mediaLines(answer), ['m=audio 54344 RTP/AVP 0']);
  assert.deepEqual(audioAttributes(answer), ['a=rtpmap:0 PCMU/8000', 'a=ptime:20', 'a=inactive']);
  assert.equal(negotiated.localDirection, 'inactive');
  assert.equal(negotiated.remoteDirection, 'inactive');
});

test('RFC 3264 §10.2: the locked-down re-offer of G723 only has no common codec, which the caller answers 488', () => {
  const reoffer = sdp('v=0', `o=alice 2890844526 2890844527 IN IP4 ${ALICE_IP}`, 's=', `c=IN IP4 ${ALICE_IP}`, 't=0 0',
    'm=audio 62986 RTP/AVP 4', 'a=rtpmap:4 G723/8000', 'a=sendrecv');
  const result = createAnswer(parseSessionDescription(reoffer), local());
  assert.equal(result.ok, false);
  assert.ok(!result.ok && result.error instanceof SdpError);
  assert.equal(!result.ok && result.error.code, 'no-common-codec');
});

test('RFC 3264 §10.2 from Alice\'s side: Bob answers PCMU and G723, we take PCMU, the first one we offered', () => {
  const answer = sdp('v=0', `o=bob 2890844730 2890844731 IN IP4 ${BOB_IP}`, 's=', `c=IN IP4 ${BOB_IP}`, 't=0 0',
    'm=audio 54344 RTP/AVP 4 0', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:4 G723/8000', 'a=inactive');
  const n = accepted(acceptAnswer(local({ direction: 'inactive' }), parseSessionDescription(answer)));
  assert.equal(n.codec.name, 'PCMU');
  assert.equal(n.codec.payloadType, 0);
  assert.equal(n.localDirection, 'inactive');
});

// ---- Rejected streams and m= line order (RFC 3264 §6) ----

test('an audio and video offer is answered audio only, video in its place with port 0 and the same format list', () => {
  const offer = sdp('v=0', `o=alice 1 1 IN IP4 ${ALICE_IP}`, 's=-', `c=IN IP4 ${ALICE_IP}`, 't=0 0',
    'm=video 51372 RTP/AVP 31 34 96', 'a=rtpmap:96 H264/90000', 'm=audio 49170 RTP/AVP 0 8 97', 'a=rtpmap:97 iLBC/8000',
    'm=application 9 TCP/BFCP *');
  const { sdp: answer } = answerTo(offer, { codecs: ['PCMA', 'PCMU'] });
  assert.deepEqual(mediaLines(answer), ['m=video 0 RTP/AVP 31 34 96', 'm=audio 40000 RTP/AVP 8', 'm=application 0 TCP/BFCP *']);
});

test('an answer with more m= lines than we offered is refused', () => {
  const answer = sdp('v=0', `o=bob 1 1 IN IP4 ${BOB_IP}`, 's=-', `c=IN IP4 ${BOB_IP}`, 't=0 0', 'm=audio 49920 RTP/AVP 0', 'm=video 0 RTP/AVP 31');
  const result = acceptAnswer(local(), parseSessionDescription(answer));
  assert.equal(!result.ok && result.error.code, 'answer-mismatch');
});

test('an answer that rejects our audio with port 0 is a no-audio error', () => {
  const answer = sdp('v=0', `o=bob 1 1 IN IP4 ${BOB_IP}`, 's=-', `c=IN IP4 ${BOB_IP}`, 't=0 0', 'm=audio 0 RTP/AVP 0');
  throwsSdp(() => parseSessionDescription(answer), 'no-audio');
});

// ---- Directions (RFC 3264 §6.1) ----

const DIRECTION_TABLE: ReadonlyArray<[offered: Direction, wanted: Direction, answer: Direction]> = [
  ['sendrecv', 'sendrecv', 'sendrecv'], ['sendrecv', 'sendonly', 'sendonly'], ['sendrecv', 'recvonly', 'recvonly'], ['sendrecv', 'inactive', 'inactive'],
  ['sendonly', 'sendrecv', 'recvonly'], ['sendonly', 'sendonly', 'inactive'], ['sendonly', 'recvonly', 'recvonly'], ['sendonly', 'inactive', 'inactive'],
  ['recvonly', 'sendrecv', 'sendonly'], ['recvonly', 'sendonly', 'sendonly'], ['recvonly', 'recvonly', 'inactive'], ['recvonly', 'inactive', 'inactive'],
  ['inactive', 'sendrecv', 'inactive'], ['inactive', 'sendonly', 'inactive'], ['inactive', 'recvonly', 'inactive'], ['inactive', 'inactive', 'inactive'],
];

test('the answer direction for every offered direction and every direction we want (RFC 3264 §6.1)', () => {
  for (const [offered, wanted, expected] of DIRECTION_TABLE) {
    const { sdp: answer, negotiated } = answerTo(peerOffer('0', `a=${offered}`), { direction: wanted });
    assert.equal(audioAttributes(answer).at(-1), `a=${expected}`, `${offered} offered, ${wanted} wanted`);
    assert.equal(negotiated.localDirection, expected);
    assert.equal(negotiated.remoteDirection, offered);
  }
});

test('after our offer, the answer\'s direction narrows ours: a sendonly offer answered recvonly leaves us sending only', () => {
  const answer = (dir: string) => parseSessionDescription(sdp('v=0', `o=bob 1 2 IN IP4 ${BOB_IP}`, 's=-', `c=IN IP4 ${BOB_IP}`, 't=0 0',
    'm=audio 49920 RTP/AVP 0', dir));
  assert.equal(accepted(acceptAnswer(local({ direction: 'sendonly' }), answer('a=recvonly'))).localDirection, 'sendonly');
  assert.equal(accepted(acceptAnswer(local({ direction: 'sendrecv' }), answer('a=recvonly'))).localDirection, 'sendonly');
  assert.equal(accepted(acceptAnswer(local({ direction: 'sendrecv' }), answer('a=sendonly'))).localDirection, 'recvonly');
  assert.equal(accepted(acceptAnswer(local({ direction: 'sendonly' }), answer('a=sendrecv'))).localDirection, 'sendonly');
});

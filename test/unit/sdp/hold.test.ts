// Hold and resume by re-offer: RFC 3264 §8.4, RFC 6337 §5.3, and the old c=0.0.0.0 form.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acceptAnswer, createAnswer, createOffer, holdDirection, parseSessionDescription } from '../../../src/sdp/index.js';
import { ALICE_IP, BOB_IP, audioAttributes, local, sdp } from './helpers.js';

const bobAnswer = (version: number, direction: string) => parseSessionDescription(sdp('v=0', `o=bob 2808844564 ${version} IN IP4 ${BOB_IP}`, 's=-',
  `c=IN IP4 ${BOB_IP}`, 't=0 0', 'm=audio 49920 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', `a=${direction}`));

test('hold direction: sendonly, or inactive when the other side already holds us; resume is sendrecv', () => {
  assert.equal(holdDirection({ holding: true, heldByRemote: false }), 'sendonly');
  assert.equal(holdDirection({ holding: true, heldByRemote: true }), 'inactive');
  assert.equal(holdDirection({ holding: false, heldByRemote: false }), 'sendrecv');
  assert.equal(holdDirection({ holding: false, heldByRemote: true }), 'sendrecv');
});

test('we hold with a sendonly re-offer at the next session version, the peer answers recvonly, and we resume with sendrecv', () => {
  const hold = local({ direction: holdDirection({ holding: true, heldByRemote: false }), sessionVersion: 2 });
  const holdOffer = createOffer(hold);
  assert.match(holdOffer, /^o=deskphone 1000 2 IN IP4 203\.0\.113\.5\r$/m);
  assert.equal(audioAttributes(holdOffer).at(-1), 'a=sendonly');
  const held = acceptAnswer(hold, bobAnswer(2, 'recvonly'));
  assert.ok(held.ok);
  assert.equal(held.negotiated.localDirection, 'sendonly');
  assert.equal(held.negotiated.remoteDirection, 'recvonly');

  const resume = local({ direction: holdDirection({ holding: false, heldByRemote: false }), sessionVersion: 3 });
  const resumeOffer = createOffer(resume);
  assert.match(resumeOffer, /^o=deskphone 1000 3 IN IP4 203\.0\.113\.5\r$/m);
  assert.equal(audioAttributes(resumeOffer).at(-1), 'a=sendrecv');
  const resumed = acceptAnswer(resume, bobAnswer(3, 'sendrecv'));
  assert.ok(resumed.ok);
  assert.equal(resumed.negotiated.localDirection, 'sendrecv');
});

test('the peer holds us with sendonly: we answer recvonly and send nothing; its resume gets sendrecv back', () => {
  const offer = (dir: string, version: number) => parseSessionDescription(sdp('v=0', `o=alice 2890844526 ${version} IN IP4 ${ALICE_IP}`, 's=-',
    `c=IN IP4 ${ALICE_IP}`, 't=0 0', 'm=audio 49170 RTP/AVP 0', `a=${dir}`));
  const held = createAnswer(offer('sendonly', 2), local());
  assert.ok(held.ok);
  assert.equal(audioAttributes(held.sdp).at(-1), 'a=recvonly');
  assert.equal(held.negotiated.localDirection, 'recvonly');
  const resumed = createAnswer(offer('sendrecv', 3), local());
  assert.ok(resumed.ok);
  assert.equal(audioAttributes(resumed.sdp).at(-1), 'a=sendrecv');
});

test('held by the peer, we hold too with inactive, and its sendonly answer leaves the stream inactive both ways', () => {
  const both = local({ direction: holdDirection({ holding: true, heldByRemote: true }), sessionVersion: 4 });
  assert.equal(audioAttributes(createOffer(both)).at(-1), 'a=inactive');
  const result = acceptAnswer(both, bobAnswer(5, 'inactive'));
  assert.ok(result.ok);
  assert.equal(result.negotiated.localDirection, 'inactive');
});

test('an old-style hold offer with c=0.0.0.0 is answered recvonly and we never send to 0.0.0.0', () => {
  const offer = parseSessionDescription(sdp('v=0', `o=alice 2890844526 2890844527 IN IP4 ${ALICE_IP}`, 's=-', 'c=IN IP4 0.0.0.0', 't=0 0',
    'm=audio 49170 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000'));
  const result = createAnswer(offer, local());
  assert.ok(result.ok);
  assert.equal(audioAttributes(result.sdp).at(-1), 'a=recvonly');
  assert.equal(result.negotiated.localDirection, 'recvonly');
  assert.equal(result.negotiated.remoteDirection, 'sendonly');
  assert.equal(result.negotiated.remoteAddress, '0.0.0.0');
});

test('an old-style hold with c=0.0.0.0 and a=recvonly leaves nothing to do: inactive', () => {
  const offer = parseSessionDescription(sdp('v=0', `o=alice 1 2 IN IP4 ${ALICE_IP}`, 's=-', 'c=IN IP4 0.0.0.0', 't=0 0',
    'm=audio 49170 RTP/AVP 0', 'a=recvonly'));
  const result = createAnswer(offer, local());
  assert.ok(result.ok);
  assert.equal(audioAttributes(result.sdp).at(-1), 'a=inactive');
});

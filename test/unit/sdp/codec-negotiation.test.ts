// Codec choice, payload types, telephone-event, RTCP and the text we write.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acceptAnswer, createAnswer, createOffer, parseSessionDescription, SdpError } from '../../../src/sdp/index.js';
import { ALICE_IP, BOB_IP, audioAttributes, local, mediaLines, peerOffer, sdp } from './helpers.js';

const answerFrom = (formats: string, ...attributes: string[]) =>
  parseSessionDescription(sdp('v=0', `o=bob 1 1 IN IP4 ${BOB_IP}`, 's=-', `c=IN IP4 ${BOB_IP}`, 't=0 0', `m=audio 49920 RTP/AVP ${formats}`, ...attributes));

test('the offer lists our codecs in preference order, opus at 111 at most 16 kHz, telephone-event at 101 (8000 Hz) and 110 (48000 Hz)', () => {
  const offer = createOffer(local({ codecs: ['opus', 'G722', 'PCMU', 'PCMA'], telephoneEvent: true }));
  assert.deepEqual(mediaLines(offer), ['m=audio 40000 RTP/AVP 111 9 0 8 101 110']);
  assert.deepEqual(audioAttributes(offer), [
    'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 maxplaybackrate=16000;sprop-maxcapturerate=16000', 'a=rtpmap:9 G722/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=rtpmap:110 telephone-event/48000', 'a=fmtp:110 0-16', 'a=ptime:20', 'a=sendrecv',
  ]);
});

test('telephone-event is offered only at the clock rates of the codecs offered', () => {
  assert.deepEqual(mediaLines(createOffer(local({ codecs: ['G722', 'PCMU'], telephoneEvent: true }))), ['m=audio 40000 RTP/AVP 9 0 101']);
  const opusOnly = createOffer(local({ codecs: ['opus'], telephoneEvent: true }));
  assert.deepEqual(mediaLines(opusOnly), ['m=audio 40000 RTP/AVP 111 110']);
  assert.ok(audioAttributes(opusOnly).includes('a=rtpmap:110 telephone-event/48000'));
});

test('the written SDP has CRLF line ends, ends with CRLF, and orders v, o, s, c, t, m', () => {
  const offer = createOffer(local({ address: '2001:db8::5', sessionId: 42n, sessionVersion: 2n ** 63n }));
  assert.ok(offer.endsWith('\r\n'));
  assert.equal(offer.replaceAll('\r\n', '').includes('\n'), false);
  assert.equal(offer.replaceAll('\r\n', '').includes('\r'), false);
  assert.deepEqual(offer.split('\r\n').slice(0, 6), [
    'v=0', 'o=deskphone 42 9223372036854775808 IN IP6 2001:db8::5', 's=-', 'c=IN IP6 2001:db8::5', 't=0 0', 'm=audio 40000 RTP/AVP 0 8',
  ]);
});

test('our offer parses back to what we offered', () => {
  const mine = local({ codecs: ['G722', 'opus', 'PCMA'], telephoneEvent: true, rtcpMux: true, rtcpPort: 40009, ptimeMs: 30, direction: 'recvonly' });
  const d = parseSessionDescription(createOffer(mine));
  assert.deepEqual(d.audio.codecs.map((c) => `${c.payloadType} ${c.name}/${c.clockRateHz}/${c.channels}`), ['9 G722/8000/1', '111 opus/48000/2', '8 PCMA/8000/1']);
  assert.deepEqual(d.audio.telephoneEvent, { payloadType: 101, clockRateHz: 8000 });
  assert.equal(d.audio.rtcpPort, 40009);
  assert.equal(d.audio.rtcpMux, true);
  assert.equal(d.audio.ptimeMs, 30);
  assert.equal(d.audio.direction, 'recvonly');
});

test('the answerer picks the first of its own codecs that the offer has', () => {
  const offer = parseSessionDescription(peerOffer('0 8 9'));
  const g722 = createAnswer(offer, local({ codecs: ['G722', 'PCMU'] }));
  assert.ok(g722.ok);
  assert.deepEqual(mediaLines(g722.sdp), ['m=audio 40000 RTP/AVP 9']);
  assert.equal(g722.negotiated.codec.name, 'G722');
  const pcma = createAnswer(offer, local({ codecs: ['opus', 'PCMA', 'PCMU'] }));
  assert.ok(pcma.ok);
  assert.equal(pcma.negotiated.codec.name, 'PCMA');
});

test('the answer keeps the offer\'s dynamic payload types for opus and telephone-event/48000 and echoes our fmtp', () => {
  const offer = parseSessionDescription(peerOffer('96 0 100 97', 'a=rtpmap:96 OPUS/48000/2', 'a=fmtp:96 maxplaybackrate=16000',
    'a=rtpmap:100 telephone-event/8000', 'a=fmtp:100 0-15', 'a=rtpmap:97 telephone-event/48000'));
  const result = createAnswer(offer, local({ codecs: ['opus', 'PCMU'], telephoneEvent: true }));
  assert.ok(result.ok);
  assert.deepEqual(mediaLines(result.sdp), ['m=audio 40000 RTP/AVP 96 97']);
  assert.deepEqual(audioAttributes(result.sdp).slice(0, 4), [
    'a=rtpmap:96 opus/48000/2', 'a=fmtp:96 maxplaybackrate=16000;sprop-maxcapturerate=16000', 'a=rtpmap:97 telephone-event/48000', 'a=fmtp:97 0-16',
  ]);
  assert.deepEqual(result.negotiated.codec, { name: 'opus', payloadType: 96, clockRateHz: 48000, channels: 2, fmtp: 'maxplaybackrate=16000' });
  assert.equal(result.negotiated.telephoneEventPt, 97);
});

test('telephone-event at another clock rate than the codec\'s is not used (RFC 4733 §2.1: events share the audio\'s timestamps)', () => {
  const offer = parseSessionDescription(peerOffer('96 9 100', 'a=rtpmap:96 opus/48000/2', 'a=rtpmap:100 telephone-event/8000'));
  const opus = createAnswer(offer, local({ codecs: ['opus'], telephoneEvent: true }));
  assert.ok(opus.ok);
  assert.deepEqual(mediaLines(opus.sdp), ['m=audio 40000 RTP/AVP 96']);
  assert.equal(opus.negotiated.telephoneEventPt, undefined);
  const g722 = createAnswer(offer, local({ codecs: ['G722', 'opus'], telephoneEvent: true }));
  assert.ok(g722.ok);
  assert.deepEqual(mediaLines(g722.sdp), ['m=audio 40000 RTP/AVP 9 100']);
  assert.equal(g722.negotiated.telephoneEventPt, 100);
  const answered = acceptAnswer(local({ codecs: ['opus', 'PCMU'], telephoneEvent: true }), answerFrom('111 101', 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:101 telephone-event/8000'));
  assert.ok(answered.ok);
  assert.equal(answered.negotiated.telephoneEventPt, undefined);
  const matching = acceptAnswer(local({ codecs: ['opus', 'PCMU'], telephoneEvent: true }), answerFrom('111 110', 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:110 telephone-event/48000'));
  assert.ok(matching.ok);
  assert.equal(matching.negotiated.telephoneEventPt, 110);
});

test('the registry\'s codec order decides: each of G.722, opus, PCMU and PCMA wins when it comes first', () => {
  const offer = parseSessionDescription(peerOffer('0 8 9 111 101 110', 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:101 telephone-event/8000', 'a=rtpmap:110 telephone-event/48000'));
  const expected = { G722: [9, 8000, 101], opus: [111, 48000, 110], PCMU: [0, 8000, 101], PCMA: [8, 8000, 101] } as const;
  for (const first of ['G722', 'opus', 'PCMU', 'PCMA'] as const) {
    const rest = (['PCMU', 'PCMA', 'G722', 'opus'] as const).filter((c) => c !== first);
    const r = createAnswer(offer, local({ codecs: [first, ...rest], telephoneEvent: true }));
    assert.ok(r.ok);
    const [pt, clock, eventPt] = expected[first];
    assert.deepEqual([r.negotiated.codec.name, r.negotiated.codec.payloadType, r.negotiated.codec.clockRateHz, r.negotiated.telephoneEventPt], [first, pt, clock, eventPt]);
    assert.deepEqual(mediaLines(r.sdp), [`m=audio 40000 RTP/AVP ${pt} ${eventPt}`]);
  }
});

test('opus described other than opus/48000/2 is not our opus (RFC 7587 §7)', () => {
  const result = createAnswer(parseSessionDescription(peerOffer('96', 'a=rtpmap:96 opus/48000')), local({ codecs: ['opus'] }));
  assert.equal(!result.ok && result.error.code, 'no-common-codec');
});

test('encoding names match without regard to case; a static type may carry its own a=rtpmap', () => {
  const result = createAnswer(parseSessionDescription(peerOffer('8', 'a=rtpmap:8 pcma/8000')), local({ codecs: ['PCMA'] }));
  assert.ok(result.ok);
  assert.equal(result.negotiated.codec.name, 'PCMA');
  assert.equal(result.negotiated.codec.payloadType, 8);
});

test('telephone-event is answered only when both sides want it', () => {
  const withEvents = parseSessionDescription(peerOffer('0 101', 'a=rtpmap:101 telephone-event/8000'));
  const off = createAnswer(withEvents, local({ telephoneEvent: false }));
  assert.ok(off.ok);
  assert.deepEqual(mediaLines(off.sdp), ['m=audio 40000 RTP/AVP 0']);
  assert.equal(off.negotiated.telephoneEventPt, undefined);
  const without = createAnswer(parseSessionDescription(peerOffer('0')), local({ telephoneEvent: true }));
  assert.ok(without.ok);
  assert.equal(without.negotiated.telephoneEventPt, undefined);
  assert.equal(without.sdp.includes('telephone-event'), false);
});

test('after our offer, the answer\'s telephone-event payload type is the one we send DTMF with', () => {
  const mine = local({ telephoneEvent: true });
  const withEvents = acceptAnswer(mine, answerFrom('0 101', 'a=rtpmap:101 telephone-event/8000'));
  assert.ok(withEvents.ok);
  assert.equal(withEvents.negotiated.telephoneEventPt, 101);
  const withoutEvents = acceptAnswer(mine, answerFrom('0'));
  assert.ok(withoutEvents.ok);
  assert.equal(withoutEvents.negotiated.telephoneEventPt, undefined);
});

test('after our offer, the first codec in the answer that we offered wins, at the answer\'s payload type', () => {
  const mine = local({ codecs: ['PCMU', 'PCMA', 'opus'] });
  const pcma = acceptAnswer(mine, answerFrom('8 0'));
  assert.ok(pcma.ok);
  assert.equal(pcma.negotiated.codec.name, 'PCMA');
  const opus = acceptAnswer(mine, answerFrom('18 111', 'a=rtpmap:18 G729/8000', 'a=rtpmap:111 opus/48000/2', 'a=ptime:40'));
  assert.ok(opus.ok);
  assert.deepEqual(opus.negotiated.codec, { name: 'opus', payloadType: 111, clockRateHz: 48000, channels: 2 });
  assert.equal(opus.negotiated.ptimeMs, 40);
  const none = acceptAnswer(mine, answerFrom('9'));
  assert.ok(!none.ok);
  assert.ok(none.error instanceof SdpError);
  assert.equal(none.error.code, 'no-common-codec');
});

test('rtcp-mux is used only when both sides want it, and then RTCP goes to the RTP port', () => {
  const offer = parseSessionDescription(peerOffer('0', 'a=rtcp:49300', 'a=rtcp-mux'));
  const muxed = createAnswer(offer, local({ rtcpMux: true, rtcpPort: 40007 }));
  assert.ok(muxed.ok);
  assert.deepEqual(audioAttributes(muxed.sdp), ['a=rtpmap:0 PCMU/8000', 'a=ptime:20', 'a=rtcp-mux', 'a=sendrecv']);
  assert.equal(muxed.negotiated.rtcpMux, true);
  assert.equal(muxed.negotiated.remoteRtcpPort, 49170);
  const apart = createAnswer(offer, local({ rtcpMux: false, rtcpPort: 40007 }));
  assert.ok(apart.ok);
  assert.deepEqual(audioAttributes(apart.sdp), ['a=rtpmap:0 PCMU/8000', 'a=ptime:20', 'a=rtcp:40007', 'a=sendrecv']);
  assert.equal(apart.negotiated.rtcpMux, false);
  assert.equal(apart.negotiated.remoteRtcpPort, 49300);
});

test('RTCP goes to the address a=rtcp names (RFC 3605), else to the connection address', () => {
  const result = createAnswer(parseSessionDescription(peerOffer('0', `a=rtcp:49300 IN IP4 ${BOB_IP}`)), local());
  assert.ok(result.ok);
  assert.equal(result.negotiated.remoteAddress, ALICE_IP);
  assert.equal(result.negotiated.remoteRtcpAddress, BOB_IP);
  assert.equal(result.negotiated.remoteRtcpPort, 49300);
});

test('we send with the peer\'s a=ptime and otherwise with our own', () => {
  const theirs = createAnswer(parseSessionDescription(peerOffer('0', 'a=ptime:30')), local({ ptimeMs: 20 }));
  assert.ok(theirs.ok);
  assert.equal(theirs.negotiated.ptimeMs, 30);
  assert.equal(audioAttributes(theirs.sdp).includes('a=ptime:20'), true);
  const ours = createAnswer(parseSessionDescription(peerOffer('0')), local({ ptimeMs: 10 }));
  assert.ok(ours.ok);
  assert.equal(ours.negotiated.ptimeMs, 10);
});

test('bad local media is the caller\'s bug and throws bad-local-media', () => {
  for (const bad of [{ address: 'phone.local' }, { rtpPort: 0 }, { rtcpPort: 70000 }, { codecs: [] }, { ptimeMs: 0 },
    { username: 'desk phone' }, { username: 'x\r\ns=evil' }, { sessionId: -1 }, { sessionVersion: 1.5 }] as const) {
    assert.throws(() => createOffer(local(bad)), (err: unknown) => err instanceof SdpError && err.code === 'bad-local-media', JSON.stringify(bad));
  }
});

// Whatever a peer sends, parsing gives an AudioDescription or an SdpError with a code, never
// another exception; and whatever parses can be answered without a throw.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  MAX_FORMATS_PER_MEDIA, MAX_MEDIA_LINES, MAX_SDP_BYTES, SdpError, createAnswer, parseSessionDescription, type AudioDescription,
} from '../../../src/sdp/index.js';
import { ALICE_IP, local, peerOffer, sdp, throwsSdp } from './helpers.js';

const SEED = 4566;
const VALID = peerOffer('0 8 96 101', 'a=rtpmap:96 opus/48000/2', 'a=fmtp:96 useinbandfec=1', 'a=rtpmap:101 telephone-event/8000',
  'a=rtcp:49171', 'a=ptime:20', 'a=sendrecv') + sdp('m=video 51372 RTP/AVP 31');

/** Text an edit may insert besides printable ASCII: line ends, non-ASCII, and pieces of real SDP. */
const SDP_PIECES = ['\r\n', '\n', '\r', '\0', '\t', 'é', '€', '\u{1f4de}', '\ud800', ' ', '/', ':', '0', '65535', '-1', '99999999999',
  'm=audio 0 RTP/AVP 0', 'm=video 5000 RTP/AVP 31', 'c=IN IP6 ::', 'c=IN IP4 0.0.0.0', 'a=rtcp-mux', 'a=rtcp:1', 'a=rtpmap:8 ', 'a=inactive'];

/** Parses; an SdpError is a fine outcome, anything else thrown fails the test. */
function parseOrCode(body: Uint8Array | string): AudioDescription | SdpError {
  try {
    return parseSessionDescription(body);
  } catch (err) {
    if (err instanceof SdpError) return err;
    throw err;
  }
}

test('random bytes give SdpError with a code', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
    const out = parseOrCode(bytes);
    assert.ok(out instanceof SdpError);
    assert.ok(['bad-version', 'bad-encoding'].includes(out.code), out.code);
  }), { seed: SEED, numRuns: 500 });
});

test('every truncation of a valid offer parses or gives SdpError; the cut decides the code', () => {
  const codes = new Set<string>();
  for (let end = 0; end <= VALID.length; end++) {
    const out = parseOrCode(VALID.slice(0, end));
    codes.add(out instanceof SdpError ? out.code : 'parsed');
  }
  assert.deepEqual([...codes].sort(), ['bad-media-line', 'bad-origin', 'bad-port', 'bad-rtpmap', 'bad-version', 'no-audio', 'parsed']);
  const cutBefore = (text: string) => VALID.slice(0, VALID.indexOf(text));
  throwsSdp(() => parseSessionDescription(cutBefore(' IN IP4')), 'bad-origin');
  throwsSdp(() => parseSessionDescription(cutBefore('m=audio')), 'no-audio');
  throwsSdp(() => parseSessionDescription(cutBefore(' 0 8 96')), 'bad-media-line');
  throwsSdp(() => parseSessionDescription(cutBefore('48000/2')), 'bad-rtpmap');
  throwsSdp(() => parseSessionDescription(cutBefore('71\r\na=ptime')), 'bad-port');
  assert.equal(parseOrCode(cutBefore('a=rtcp')) instanceof SdpError, false);
});

test('random edits of a valid offer parse or give SdpError, and whatever parses can be answered', () => {
  const text = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...SDP_PIECES));
  const edit = fc.record({ at: fc.nat({ max: VALID.length }), cut: fc.nat({ max: 8 }), text });
  let answered = 0;
  fc.assert(fc.property(fc.array(edit, { minLength: 1, maxLength: 6 }), (edits) => {
    const body = edits.reduce((s, e) => s.slice(0, e.at) + e.text + s.slice(e.at + e.cut), VALID);
    const out = parseOrCode(body);
    if (out instanceof SdpError) return;
    const answer = createAnswer(out, local({ codecs: ['opus', 'PCMU', 'PCMA', 'G722'], telephoneEvent: true, rtcpMux: true }));
    if (!answer.ok) {
      assert.equal(answer.error.code, 'no-common-codec');
      return;
    }
    answered++;
    assert.equal(answer.sdp.split('\r\n').filter((l) => l.startsWith('m=')).length, out.others.length + 1);
  }), { seed: SEED, numRuns: 1000 });
  // The property is only worth something if many edited bodies still parse.
  assert.ok(answered >= 100, `only ${answered} of 1000 edited offers were answered`);
});

test('a body over 16 KiB is too large, counted in UTF-8 bytes', () => {
  throwsSdp(() => parseSessionDescription(VALID + `a=x:${'y'.repeat(MAX_SDP_BYTES)}\r\n`), 'too-large');
  throwsSdp(() => parseSessionDescription(new Uint8Array(MAX_SDP_BYTES + 1)), 'too-large');
  // 6000 characters, 18000 bytes.
  throwsSdp(() => parseSessionDescription(`${VALID}a=x:${'€'.repeat(6000)}\r\n`), 'too-large');
});

test('huge m= lines: more than 64 formats, or more than 16 media lines', () => {
  const formats = Array.from({ length: MAX_FORMATS_PER_MEDIA + 1 }, (_, i) => String(i)).join(' ');
  throwsSdp(() => parseSessionDescription(peerOffer(formats)), 'too-many-formats');
  assert.equal(parseSessionDescription(peerOffer(formats.slice(0, formats.lastIndexOf(' ')))).audio.codecs.length, 3);
  throwsSdp(() => parseSessionDescription(peerOffer('0') + 'm=video 0 RTP/AVP 31\r\n'.repeat(MAX_MEDIA_LINES)), 'too-many-media');
});

test('m=audio 0 is a rejected stream, so there is no audio', () => {
  throwsSdp(() => parseSessionDescription(peerOffer('0').replace('m=audio 49170', 'm=audio 0')), 'no-audio');
  throwsSdp(() => parseSessionDescription(sdp('v=0', `o=p 1 1 IN IP4 ${ALICE_IP}`, 's=-', `c=IN IP4 ${ALICE_IP}`, 't=0 0', 'm=video 5000 RTP/AVP 31')), 'no-audio');
});

test('multicast, broadcast and names in c= are refused', () => {
  const withC = (c: string) => peerOffer('0').replace(`c=IN IP4 ${ALICE_IP}`, c);
  throwsSdp(() => parseSessionDescription(withC('c=IN IP4 224.2.17.12/127')), 'multicast');
  throwsSdp(() => parseSessionDescription(withC('c=IN IP4 239.1.2.3')), 'multicast');
  throwsSdp(() => parseSessionDescription(withC('c=IN IP6 ff15::101')), 'multicast');
  throwsSdp(() => parseSessionDescription(withC('c=IN IP4 255.255.255.255')), 'broadcast');
  throwsSdp(() => parseSessionDescription(withC('c=IN IP4 host.atlanta.example.com')), 'bad-connection');
  throwsSdp(() => parseSessionDescription(withC('c=IN IP4 2001:db8::1')), 'bad-connection');
  throwsSdp(() => parseSessionDescription(withC('c=IN IP9 192.0.2.1')), 'bad-connection');
  throwsSdp(() => parseSessionDescription(withC('')), 'bad-connection');
});

test('port 80, port 70000 and a port count are refused', () => {
  throwsSdp(() => parseSessionDescription(peerOffer('0').replace('49170', '80')), 'bad-port');
  throwsSdp(() => parseSessionDescription(peerOffer('0').replace('49170', '70000')), 'bad-port');
  throwsSdp(() => parseSessionDescription(peerOffer('0').replace('49170', '65535')), 'bad-port');
  throwsSdp(() => parseSessionDescription(peerOffer('0').replace('49170', '49170/2')), 'bad-media-line');
});

test('broken lines: no v=0 first, no o=, bad payload types, bad rtpmap, not UTF-8, a NUL', () => {
  throwsSdp(() => parseSessionDescription(`\r\n${VALID}`), 'bad-version');
  throwsSdp(() => parseSessionDescription(VALID.replace('v=0', 'v=1')), 'bad-version');
  throwsSdp(() => parseSessionDescription(VALID.replace(/o=.*\r\n/, '')), 'bad-origin');
  throwsSdp(() => parseSessionDescription(VALID.replace('o=peer 1 1 IN', 'o=peer one 1 IN')), 'bad-origin');
  throwsSdp(() => parseSessionDescription(peerOffer('0 abc')), 'bad-format');
  throwsSdp(() => parseSessionDescription(peerOffer('0 128')), 'bad-format');
  throwsSdp(() => parseSessionDescription(peerOffer('96', 'a=rtpmap:96 opus/')), 'bad-rtpmap');
  throwsSdp(() => parseSessionDescription(peerOffer('96', 'a=rtpmap:96 opus/48000/0')), 'bad-rtpmap');
  throwsSdp(() => parseSessionDescription(peerOffer('').replace('RTP/AVP \r\n', 'RTP/AVP\r\n')), 'bad-media-line');
  throwsSdp(() => parseSessionDescription(new Uint8Array([...new TextEncoder().encode(VALID), 0xc3, 0x28])), 'bad-encoding');
  throwsSdp(() => parseSessionDescription(VALID.replace('s=-', 's=\0')), 'bad-encoding');
});

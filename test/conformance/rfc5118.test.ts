// RFC 5118 IPv6 torture messages (test/conformance/rfc5118, see its INDEX.md for how these
// copies differ from the RFC archive: CRLF line ends, two bodies longer than Content-Length).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  SipParseError, checkRequest, getContacts, getVias, isSipUri, parseMessage, type NameAddr, type SipRequest, type SipUri,
} from '../../src/sip/message/index.js';
import { corpus, indexHashes, sha256 } from '../helpers/conformance.js';

const FILES = corpus('rfc5118');
const req = (f: string): SipRequest => parseMessage(FILES.get(`${f}.dat`) as Buffer) as SipRequest;
const uri = (r: SipRequest): SipUri => r.uri as SipUri;

test('the corpus is intact (sha256 as listed in INDEX.md)', () => {
  const hashes = indexHashes('rfc5118');
  assert.equal(FILES.size, 12);
  for (const [f, bytes] of FILES) assert.equal(sha256(bytes), hashes.get(f), f);
});

test('4.1 ipv6-good: IPv6 references in Request-URI, Via and Contact', () => {
  const r = req('ipv6-good');
  assert.equal(uri(r).host, '[2001:db8::10]');
  assert.equal(getVias(r)[0]?.host, '[2001:db8::9:1]');
  assert.equal(((getContacts(r)[0] as NameAddr).uri as SipUri).host, '[2001:db8::1]');
  assert.equal(checkRequest(r), undefined);
});

test('4.2 ipv6-bad: an IPv6 address without [] in the Request-URI is rejected with 400', () => {
  assert.throws(() => req('ipv6-bad'), (e: unknown) => e instanceof SipParseError && e.status === 400);
});

test('4.3/4.4 the port is outside the brackets or absent', () => {
  assert.equal(uri(req('port-ambiguous')).host, '[2001:db8::10:5070]');
  assert.equal(uri(req('port-ambiguous')).port, undefined);
  assert.equal(uri(req('port-unambiguous')).host, '[2001:db8::10]');
  assert.equal(uri(req('port-unambiguous')).port, 5070);
});

test('4.5 received= with and without brackets', () => {
  assert.equal(getVias(req('via-received-param-with-delim'))[0]?.params.get('received'), '[2001:db8::9:255]');
  assert.equal(getVias(req('via-received-param-no-delim'))[0]?.params.get('received'), '2001:db8::9:255');
});

test('4.6-4.9 IPv6 and IPv4-mapped addresses in headers and SDP; bodies cut at Content-Length', () => {
  const mapped = req('ipv4-mapped-ipv6');
  assert.deepEqual(getVias(mapped).map((v) => [v.host, v.port]), [['[::ffff:192.0.2.10]', 19823], ['[::ffff:192.0.2.2]', undefined]]);
  assert.equal(mapped.body.length, 236);
  const sdp = req('ipv6-in-sdp');
  assert.match(Buffer.from(sdp.body).toString(), /c=IN IP6 2001:db8::20/);
  const mixed = req('mult-ip-in-header');
  assert.deepEqual(getVias(mixed).map((v) => v.host.startsWith('[')), [true, false, true]);
  assert.equal(checkRequest(req('mult-ip-in-sdp')), undefined);
});

test('4.10 the RFC 3261 ABNF bug: three colons are tolerated, two are correct', () => {
  assert.equal(uri(req('ipv6-bug-abnf-3-colons')).host, '[2001:db8:::192.0.2.1]');
  assert.equal(uri(req('ipv6-correct-abnf-2-colons')).host, '[2001:db8::192.0.2.1]');
  for (const f of FILES.keys()) {
    if (f === 'ipv6-bad.dat') continue;
    const r = parseMessage(FILES.get(f) as Buffer) as SipRequest;
    assert.ok(isSipUri(r.uri), f);
    assert.equal(checkRequest(r), undefined, f);
  }
});

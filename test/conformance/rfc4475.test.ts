// RFC 4475 SIP torture messages (test/conformance/rfc4475, see its INDEX.md): valid messages
// parse to the right values, invalid ones are rejected with the response the RFC expects.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  SipParseError, checkRequest, checkResponse, formatUri, getCSeq, getCallId, getContacts, getFrom, getMaxForwards, getTo,
  getVias, isSipUri, parseMessage, serializeMessage, type NameAddr, type SipMessage, type SipRequest, type SipUri,
} from '../../src/sip/message/index.js';
import { corpus, indexHashes, sha256 } from '../helpers/conformance.js';

const FILES = corpus('rfc4475');
const parse = (f: string): SipMessage => parseMessage(FILES.get(`${f}.dat`) as Buffer);
const req = (f: string): SipRequest => {
  const m = parse(f);
  assert.equal(m.kind, 'request');
  return m as SipRequest;
};
const sip = (u: unknown): SipUri => {
  assert.ok(isSipUri(u as SipUri));
  return u as SipUri;
};
/** The status a UAS answers: the parse error's, or checkRequest's. */
function verdict(f: string): number | 'ok' | 'dropped' {
  let m: SipMessage;
  try {
    m = parse(f);
  } catch (err) {
    assert.ok(err instanceof SipParseError, `${f}: ${String(err)}`);
    return err.status ?? 'dropped';
  }
  if (m.kind === 'response') return checkResponse(m) === undefined ? 'ok' : 'dropped';
  return checkRequest(m)?.status ?? 'ok';
}

test('the corpus is intact (sha256 of all 50 files as listed in INDEX.md)', () => {
  const hashes = indexHashes('rfc4475');
  assert.equal(FILES.size, 50);
  assert.equal(hashes.size, 50);
  for (const [f, bytes] of FILES) assert.equal(sha256(bytes), hashes.get(f), f);
});

test('3.1.1.1 wsinv: folding, LWS, compact and case-insensitive names, unknown headers kept', () => {
  const m = req('wsinv');
  assert.equal(m.method, 'INVITE');
  assert.deepEqual([...sip(m.uri).params], [['unknownparam', null]]);
  assert.equal(getTo(m).params.get('tag'), '1918181833n');
  const from = getFrom(m);
  assert.equal(from.displayName, 'J Rosenberg \\"');
  assert.equal(from.params.get('tag'), '98asjd8');
  assert.equal(getMaxForwards(m), 68);
  assert.deepEqual(getCSeq(m), { seq: 9, method: 'INVITE' });
  assert.equal(m.headers.get('Subject'), '');
  assert.equal(m.headers.get('NewFangledHeader'), 'newfangled value continued newfangled value');
  assert.equal(m.headers.get('UnknownHeaderWithUnusualValue'), ';;,,;;,;');
  const vias = getVias(m);
  assert.deepEqual(vias.map((v) => [v.transport, v.host, v.params.get('branch')]), [
    ['UDP', '192.0.2.2', '390skdjuw'],
    ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
    ['UDP', '192.168.255.111', 'z9hG4bK30239'],
  ]);
  const contact = getContacts(m)[0] as NameAddr;
  assert.equal(contact.displayName, 'Quoted string ""');
  assert.equal(contact.params.get('newparam'), 'newvalue');
  assert.equal(contact.params.get('secondparam'), null);
  assert.equal(contact.params.get('q'), '0.33');
  assert.equal(m.body.length, 150);
  assert.equal(checkRequest(m), undefined);
});

test('3.1.1.2 intmeth: every token character in the method, odd URI user and password, NUL in a quoted pair', () => {
  const m = req('intmeth');
  assert.equal(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
  const uri = sip(m.uri);
  assert.equal(uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  assert.equal(uri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  assert.equal(getTo(m).displayName, 'BEL:\u0007 NUL:\u0000 DEL:\u007f');
  assert.equal(getFrom(m).displayName, "token1~` token2'+_ token3*%!.-");
  assert.equal(getFrom(m).params.get("fromparam''~+*_!.-%"), '"работающий"');
  assert.equal(getCallId(m), 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
  assert.equal(getMaxForwards(m), 255);
  assert.equal(m.headers.get("extensionHeader-!.%*+_`'~"), '\ufeff大停電');
  assert.equal(getVias(m)[0]?.params.get('branch'), "z9hG4bK-.!%66*_+`'~");
});

test('3.1.1.3 esc01: %-escapes decode once, and only where the grammar allows them', () => {
  const m = req('esc01');
  assert.equal(sip(m.uri).user, 'sips:user@example.com');
  assert.equal(sip(getTo(m).uri).user, 'user');
  assert.equal(sip(getFrom(m).uri).user, 'I have spaces');
  const c = sip((getContacts(m)[0] as NameAddr).uri);
  assert.equal(c.user, 'caller');
  assert.equal(c.params.get('lr'), null);
  assert.equal(c.params.get('name'), 'value%41');
});

test('3.1.1.4 escnull: %00 survives and makes two distinct contacts', () => {
  const m = req('escnull');
  assert.equal(sip(getTo(m).uri).user, 'null-\u0000-null');
  const users = getContacts(m).map((c) => sip((c as NameAddr).uri).user);
  assert.deepEqual(users, ['\u0000', '\u0000\u0000']);
});

test('3.1.1.5 esc02: % is literal in the method, display names and header names', () => {
  const m = req('esc02');
  assert.equal(m.method, 'RE%47IST%45R');
  assert.equal(getContacts(m).length, 2);
  assert.ok(m.headers.has('C%6Fntact'));
  assert.equal(getVias(m)[0]?.params.get('branch'), 'z9hG4bK209%fzsnel234');
});

test('3.1.1.6 lwsdisp: a token display name glued to <', () => {
  assert.equal(getFrom(req('lwsdisp')).displayName, 'caller');
});

test('3.1.1.7 longreq: long values need no fixed buffers', () => {
  const m = req('longreq');
  assert.match(getTo(m).displayName ?? '', /^I have a user name of (extreme){10} proportion$/);
  assert.equal(sip(getFrom(m).uri).user, 'amazinglylongcallername'.repeat(5));
  assert.ok(getCallId(m).length > 100);
  assert.equal(getVias(m).length, 34);
  assert.equal(getVias(m)[0]?.host, 'sip33.example.com');
  assert.equal(getVias(m)[33]?.host, 'host.example.com');
});

test('3.1.1.8 dblreq: bytes after Content-Length are ignored', () => {
  const m = req('dblreq');
  assert.equal(m.method, 'REGISTER');
  assert.equal(m.body.length, 0);
});

test('3.1.1.9 semiuri: ; in the user part', () => {
  assert.equal(sip(req('semiuri').uri).user, 'user;par=u@example.net');
  assert.equal(sip(req('semiuri').uri).params.size, 0);
});

test('3.1.1.10 transports: unknown transports are opaque tokens', () => {
  assert.deepEqual(getVias(req('transports')).map((v) => v.transport), ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
  assert.equal(getCallId(req('transports')), 'transports.kijh4akdnaqjkwendsasfdj');
});

test('3.1.1.11 mpart01: a binary body framed by Content-Length only', () => {
  const m = req('mpart01');
  assert.equal(m.body.length, 553);
  assert.ok(m.body.includes(0));
  assert.match(m.headers.get('Content-Type') ?? '', /multipart\/mixed/);
});

test('3.1.1.12/13 unreason, noreason: UTF-8 and empty reason phrases', () => {
  const u = parse('unreason');
  assert.equal(u.kind, 'response');
  assert.equal(u.kind === 'response' && u.reason, '= 2**3 * 5**2 \u043d\u043e \u0441\u0442\u043e \u0434\u0435\u0432\u044f\u043d\u043e\u0441\u0442\u043e \u0434\u0435\u0432\u044f\u0442\u044c - \u043f\u0440\u043e\u0441\u0442\u043e\u0435');
  const n = parse('noreason');
  assert.ok(n.kind === 'response' && n.status === 100 && n.reason === '');
});

const EXPECTED: Record<string, number | 'ok' | 'dropped' | Array<number | 'ok' | 'dropped'>> = {
  // 3.1.2 invalid
  badinv01: 400, clerr: 400, ncl: 400, scalar02: 400, scalarlg: 'dropped', quotbal: 400, ltgtruri: 400,
  lwsruri: 400, lwsstart: 400, trws: 400, escruri: 400, baddate: ['ok', 400], regbadct: 400, badaspec: 400,
  baddn: 400, badvers: 505, mismatch01: 400, mismatch02: [400, 501], bigcode: 'dropped',
  // 3.2 / 3.3 parse; the status comes from the transaction layer or the UA
  badbranch: 'ok', insuf: 400, unkscm: 416, novelsc: 416, unksm2: 'ok', bext01: 'ok', invut: 'ok', regaut01: 'ok',
  multi01: 400, mcl01: 400, bcast: 'ok', zeromf: 'ok', cparam01: 'ok', cparam02: 'ok', regescrt: 'ok', sdp01: 'ok',
  // 3.4 backward compatibility; test.dat is hostile
  inv2543: 'ok', test: 400,
  // valid ones
  wsinv: 'ok', intmeth: 'ok', esc01: 'ok', escnull: 'ok', esc02: 'ok', lwsdisp: 'ok', longreq: 'ok', dblreq: 'ok',
  semiuri: 'ok', transports: 'ok', mpart01: 'ok', unreason: 'ok', noreason: 'ok',
};

test('every message gets the verdict RFC 4475 expects (accept, 400, 505, 416, or drop)', () => {
  assert.equal(Object.keys(EXPECTED).length, 50);
  for (const f of FILES.keys()) {
    const name = f.replace('.dat', '');
    const want = EXPECTED[name];
    assert.ok(want !== undefined, `no expectation for ${name}`);
    const got = verdict(name);
    if (Array.isArray(want)) assert.ok(want.includes(got), `${name}: got ${got}, expected one of ${want.join('/')}`);
    else assert.equal(got, want, name);
  }
});

test('3.3.12/13/14 contact parameters: outside <> they belong to the header, inside to the URI', () => {
  const c1 = getContacts(req('cparam01'))[0] as NameAddr;
  assert.equal(c1.params.get('unknownparam'), null);
  assert.equal(sip(c1.uri).params.size, 0);
  const c2 = getContacts(req('cparam02'))[0] as NameAddr;
  assert.equal(c2.params.size, 0);
  assert.ok(sip(c2.uri).params.has('unknownparam'));
  const c3 = getContacts(req('regescrt'))[0] as NameAddr;
  assert.equal(sip(c3.uri).headers.get('Route'), '<sip:sip.example.com>');
});

test('3.3.2/3.3.4 unknown schemes stay opaque', () => {
  assert.equal(formatUri(req('unkscm').uri), 'nobodyKnowsThisScheme:totallyopaquecontent');
  assert.equal(getTo(req('unksm2')).uri.scheme, 'isbn');
});

test('3.4.1 inv2543: no Content-Length means the body runs to the end of the datagram', () => {
  const m = req('inv2543');
  assert.equal(m.body.length, 105);
  assert.equal(getFrom(m).params.get('tag'), undefined);
});

test('valid messages round-trip: parse(serialize(parse(x))) equals parse(x)', () => {
  for (const f of FILES.keys()) {
    let m: SipMessage;
    try {
      m = parseMessage(FILES.get(f) as Buffer);
    } catch {
      continue;
    }
    const again = parseMessage(serializeMessage(m));
    assert.equal(again.kind, m.kind, f);
    if (m.kind === 'request' && again.kind === 'request') {
      assert.equal(again.method, m.method, f);
      assert.equal(formatUri(again.uri), formatUri(m.uri), f);
    }
    assert.deepEqual([...again.headers.entries()], [...m.headers.entries()].map(([n, v]) => [n, n === 'Content-Length' ? String(m.body.length) : v]), f);
    assert.deepEqual(Buffer.from(again.body), Buffer.from(m.body), f);
    assert.deepEqual(serializeMessage(again), serializeMessage(m), `${f}: serialisation is stable`);
  }
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  SipHeaders, SipParseError, StreamFramer, formatNameAddr, formatUri, formatVia, getCSeq, makeResponse, parseMessage,
  parseNameAddr, parseUri, parseVia, serializeMessage, uriEquals, type SipRequest, type SipUri,
} from '../../../../src/sip/message/index.js';
import { REPO_ROOT } from '../../../helpers/paths.js';

const OPTIONS = 'OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: x@y\r\nCSeq: 7 OPTIONS\r\nContent-Length: 4\r\n\r\nbody';

test('URIs: escapes round-trip, hosts lower-case, IPv6 ports, params and headers', () => {
  const u = parseUri('SIP:Alice%40Home:pw@Example.COM:5070;transport=TCP;lr?Subject=hi%20there&X=1') as SipUri;
  assert.deepEqual([u.scheme, u.user, u.password, u.host, u.port], ['sip', 'Alice@Home', 'pw', 'example.com', 5070]);
  assert.deepEqual([...u.params], [['transport', 'TCP'], ['lr', null]]);
  assert.equal(u.headers.get('Subject'), 'hi there');
  assert.equal(formatUri(u), 'sip:Alice%40Home:pw@example.com:5070;transport=TCP;lr?Subject=hi%20there&X=1');
  assert.equal((parseUri('sips:[2001:DB8::1]:5061') as SipUri).host, '[2001:db8::1]');
  assert.ok(uriEquals(parseUri('sip:%61lice@EXAMPLE.com'), parseUri('sip:alice@example.com')));
  assert.ok(!uriEquals(parseUri('sip:alice@example.com;transport=tcp'), parseUri('sip:alice@example.com')));
  assert.deepEqual(parseUri('tel:+1-201-555-0123'), { scheme: 'tel', raw: 'tel:+1-201-555-0123' });
  for (const bad of ['sip:', 'sip:a@', 'sip:host:99999', 'sip:ho st', 'sip:a@b;=x', 'sip:%zz@h', 'sip:[::1', 'sip:h;p=', 'nocolon']) {
    assert.throws(() => parseUri(bad), SipParseError, bad);
  }
});

test('name-addr: quoted and token display names, header params, addr-spec params belong to the header', () => {
  const a = parseNameAddr('"Bob \\"B\\" Smith" <sip:bob@example.com;lr>;tag=x;expires=60');
  assert.equal(a.displayName, 'Bob "B" Smith');
  assert.equal(a.params.get('tag'), 'x');
  assert.equal(formatNameAddr(a), '"Bob \\"B\\" Smith" <sip:bob@example.com;lr>;tag=x;expires=60');
  const b = parseNameAddr('sip:bob@example.com;tag=y');
  assert.equal((b.uri as SipUri).params.size, 0);
  assert.equal(b.params.get('tag'), 'y');
  assert.equal(parseNameAddr('<sip:x@y>;+sip.instance="<urn:uuid:1>"').params.get('+sip.instance'), '"<urn:uuid:1>"');
  for (const bad of ['Bell, Alexander <sip:a@b>', '"open <sip:a@b>', '< sip:a@b >', 'sip:a@b?X=1', '<sip:a@b>;', '<sip:a@b']) {
    assert.throws(() => parseNameAddr(bad), SipParseError, bad);
  }
});

test('Via: LWS in sent-protocol, IPv6 sent-by, params, lists', () => {
  const [v1, v2] = parseVia('SIP / 2.0 / udp [2001:db8::1]:5062 ; branch=z9hG4bK1 ; rport, SIP/2.0/TCP h.example.com;received=192.0.2.9');
  assert.deepEqual([v1?.transport, v1?.host, v1?.port, v1?.params.get('rport')], ['UDP', '[2001:db8::1]', 5062, null]);
  assert.equal(v2?.params.get('received'), '192.0.2.9');
  assert.equal(formatVia(v1 as NonNullable<typeof v1>), 'SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bK1;rport');
  assert.throws(() => parseVia('SIP/2.0 h'), SipParseError);
  assert.throws(() => parseVia('SIP/2.0/UDP h;;'), SipParseError);
});

test('headers: compact names, case-insensitivity, lists split outside quotes and <>, set/prepend/removeFirst', () => {
  const h = SipHeaders.from([['v', 'SIP/2.0/UDP a, SIP/2.0/UDP b'], ['VIA', 'SIP/2.0/UDP c'], ['Contact', '"x,y" <sip:a@b>, <sip:c@d;p=1,2>']]);
  assert.deepEqual(h.getAll('via'), ['SIP/2.0/UDP a', 'SIP/2.0/UDP b', 'SIP/2.0/UDP c']);
  assert.deepEqual(h.getAll('m'), ['"x,y" <sip:a@b>', '<sip:c@d;p=1,2>']);
  h.prepend('Via', 'SIP/2.0/UDP top');
  h.removeFirst('Via');
  h.removeFirst('Via');
  assert.deepEqual(h.getAll('Via'), ['SIP/2.0/UDP b', 'SIP/2.0/UDP c']);
  h.set('Subject', 'line1\r\nInjected: yes');
  assert.equal(h.get('Injected'), undefined, 'no header injection through values');
  assert.equal(h.count('Via'), 2);
});

test('a BOM and other Unicode spaces in a header value are kept (only SP/HT are trimmed)', () => {
  const bytes = readFileSync(join(REPO_ROOT, 'test/unit/sip/message/regressions/bom-in-header-value.bin'));
  assert.equal(parseMessage(bytes).headers.get('X-Bom'), '\ufeffvalue\ufeff');
});

test('limits: oversize datagrams, too many headers, long lines fail before allocating', () => {
  assert.throws(() => parseMessage(Buffer.alloc(70_000, 0x41)), (e: unknown) => e instanceof SipParseError && e.code === 'too-large');
  const many = `OPTIONS sip:a@b SIP/2.0\r\n${'X: 1\r\n'.repeat(300)}\r\n`;
  assert.throws(() => parseMessage(Buffer.from(many)), (e: unknown) => e instanceof SipParseError && e.code === 'too-many-headers');
  const long = `OPTIONS sip:a@b SIP/2.0\r\nX: ${'a'.repeat(9000)}\r\n\r\n`;
  assert.throws(() => parseMessage(Buffer.from(long)), (e: unknown) => e instanceof SipParseError && e.code === 'line-too-long');
});

test('a 505 carries what was parsed so the transport can answer statelessly', () => {
  try {
    parseMessage(Buffer.from(OPTIONS.replace('SIP/2.0\r\nVia', 'SIP/3.0\r\nVia')));
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof SipParseError);
    assert.equal(err.status, 505);
    assert.deepEqual(getCSeq(err.partial as SipRequest), { seq: 7, method: 'OPTIONS' });
  }
});

test('makeResponse copies Via, From, To, Call-ID, CSeq in order and nothing else', () => {
  const req = parseMessage(Buffer.from(OPTIONS.replace('Call-ID', 'Via: SIP/2.0/UDP second;branch=z9hG4bK2\r\nCall-ID'))) as SipRequest;
  const res = makeResponse(req, 486);
  assert.equal(res.reason, 'Busy Here');
  assert.deepEqual([...res.headers.entries()].map(([n]) => n), ['Via', 'From', 'To', 'Via', 'Call-ID', 'CSeq', 'Content-Length']);
  assert.match(serializeMessage(res).toString(), /^SIP\/2\.0 486 Busy Here\r\n/);
});

test('the stream framer frames messages split at every byte offset, and keepalives', () => {
  const stream = Buffer.from(`\r\n\r\n${OPTIONS}${OPTIONS}\r\n`);
  for (let cut = 0; cut <= stream.length; cut++) {
    const f = new StreamFramer();
    const items = [...f.push(stream.subarray(0, cut)), ...f.push(stream.subarray(cut))];
    const kinds = items.map((i) => (i.kind === 'keepalive' ? (i.pong ? 'pong' : 'ping') : i.kind));
    // A ping split after its first CRLF is read as two pongs; everything else frames exactly.
    if (cut === 2) assert.deepEqual(kinds, ['pong', 'pong', 'request', 'request', 'pong'], `cut ${cut}`);
    else assert.deepEqual(kinds, ['ping', 'request', 'request', 'pong'], `cut ${cut}`);
    assert.equal(f.buffered, 0);
  }
});

test('the stream framer closes on broken framing and bounds its buffer', () => {
  assert.throws(() => new StreamFramer().push(Buffer.from(OPTIONS.replace('Content-Length: 4', 'Content-Length: -4'))), (e: unknown) => e instanceof SipParseError && e.code === 'bad-framing');
  assert.throws(() => new StreamFramer().push(Buffer.from(OPTIONS.replace('Content-Length: 4', 'Content-Length: 4\r\nl: 5'))), SipParseError);
  assert.throws(() => new StreamFramer({ maxBytes: 1000 }).push(Buffer.alloc(1001, 0x41)), (e: unknown) => e instanceof SipParseError && e.code === 'too-large');
  assert.throws(() => new StreamFramer({ maxBytes: 1000 }).push(Buffer.from(OPTIONS.replace('Content-Length: 4', 'Content-Length: 5000'))), (e: unknown) => e instanceof SipParseError && e.code === 'too-large');
  const f = new StreamFramer();
  const items = f.push(Buffer.from(`GARBAGE\r\n\r\n${OPTIONS}`));
  assert.deepEqual(items.map((i) => i.kind), ['invalid', 'request'], 'a well-framed bad message is reported and the stream goes on');
});

test('a parsed message keeps a view of a small buffer and copies out of a large one', () => {
  const own = Buffer.from(OPTIONS);
  const fromDatagram = parseMessage(own);
  assert.equal(Buffer.from(fromDatagram.body).toString(), 'body');
  assert.equal(serializeMessage(fromDatagram).buffer, own.buffer, 'a datagram-sized buffer is used as it is');
  const big = Buffer.alloc(1 << 20);
  big.write(OPTIONS, 4096);
  const fromStream = parseMessage(big.subarray(4096, 4096 + OPTIONS.length));
  assert.ok(serializeMessage(fromStream).buffer.byteLength < 64 * 1024, 'a message must not pin a 1 MiB buffer');
  big.fill(0);
  assert.equal(Buffer.from(fromStream.body).toString(), 'body', 'the copy is independent of the big buffer');
  assert.equal(serializeMessage(fromStream).toString(), OPTIONS);
});

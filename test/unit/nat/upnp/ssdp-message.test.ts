// SSDP search messages (UDA 2.0 §1.3.2, §1.3.3): the M-SEARCH we send and the answers we accept,
// with the limits and the LOCATION checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IGD_SEARCH_TARGETS, IgdError, buildMSearch, parseSsdpResponse } from '../../../../src/nat/upnp/index.js';

const MINIUPNPD_ANSWER = [
  'HTTP/1.1 200 OK',
  'CACHE-CONTROL: max-age=120',
  'ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1',
  'USN: uuid:11111111-2222-3333-4444-555555555555::urn:schemas-upnp-org:device:InternetGatewayDevice:1',
  'EXT:',
  'SERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.1',
  'LOCATION: http://192.168.77.1:39523/rootDesc.xml',
  'OPT: "http://schemas.upnp.org/upnp/1/0/"; ns=01',
  '01-NLS: 1795621241',
  'BOOTID.UPNP.ORG: 1795621241',
  'CONFIGID.UPNP.ORG: 1337',
  '',
  '',
].join('\r\n');

const answer = (headers: string[]): Buffer => Buffer.from(['HTTP/1.1 200 OK', ...headers, '', ''].join('\r\n'), 'latin1');

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof IgdError, `expected IgdError, got ${String(err)}`);
    return err.code;
  }
  return 'no error';
}

test('M-SEARCH is the UDA request line with HOST, MAN, MX and ST, ending in an empty line', () => {
  const text = buildMSearch(IGD_SEARCH_TARGETS[0], 2).toString('latin1');
  assert.equal(
    text,
    'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 2\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n',
  );
});

test('MX is kept within 1..5 seconds', () => {
  assert.match(buildMSearch('ssdp:all', 0).toString(), /\r\nMX: 1\r\n/);
  assert.match(buildMSearch('ssdp:all', 30).toString(), /\r\nMX: 5\r\n/);
});

test("miniupnpd's answer gives LOCATION, ST, USN and SERVER", () => {
  const r = parseSsdpResponse(Buffer.from(MINIUPNPD_ANSWER, 'latin1'), '192.168.77.1');
  assert.deepEqual(r, {
    location: 'http://192.168.77.1:39523/rootDesc.xml',
    searchTarget: 'urn:schemas-upnp-org:device:InternetGatewayDevice:1',
    usn: 'uuid:11111111-2222-3333-4444-555555555555::urn:schemas-upnp-org:device:InternetGatewayDevice:1',
    server: 'Debian/12 UPnP/1.1 MiniUPnPd/2.3.1',
  });
});

test('header names are case-insensitive and bare LF line ends are accepted', () => {
  const r = parseSsdpResponse(Buffer.from('HTTP/1.1 200 OK\nlocation: http://10.0.0.1/d.xml\nst: upnp:rootdevice\n\n'), '10.0.0.1');
  assert.equal(r?.location, 'http://10.0.0.1/d.xml');
  assert.equal(r?.searchTarget, 'upnp:rootdevice');
});

test('NOTIFY and M-SEARCH from other control points are not answers', () => {
  assert.equal(parseSsdpResponse(Buffer.from('NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n')), undefined);
  assert.equal(parseSsdpResponse(buildMSearch('ssdp:all', 1)), undefined);
});

test('an answer without LOCATION or ST is malformed', () => {
  assert.equal(code(() => parseSsdpResponse(answer(['ST: upnp:rootdevice']))), 'malformed');
  assert.equal(code(() => parseSsdpResponse(answer(['LOCATION: http://10.0.0.1/']))), 'malformed');
});

test('limits: datagram size, header count, LOCATION length', () => {
  assert.equal(code(() => parseSsdpResponse(Buffer.alloc(5000, 0x41))), 'too-large');
  assert.equal(code(() => parseSsdpResponse(answer(Array.from({ length: 50 }, (_, i) => `X-${i}: y`)))), 'too-large');
  assert.equal(code(() => parseSsdpResponse(answer(['ST: a', `LOCATION: http://10.0.0.1/${'a'.repeat(600)}`]))), 'too-large');
});

test('LOCATION must be http, without credentials, naming the host that answered', () => {
  assert.equal(code(() => parseSsdpResponse(answer(['ST: a', 'LOCATION: https://10.0.0.1/d.xml']), '10.0.0.1')), 'bad-url');
  assert.equal(code(() => parseSsdpResponse(answer(['ST: a', 'LOCATION: file:///etc/passwd']), '10.0.0.1')), 'bad-url');
  assert.equal(code(() => parseSsdpResponse(answer(['ST: a', 'LOCATION: not a url']), '10.0.0.1')), 'bad-url');
  assert.equal(code(() => parseSsdpResponse(answer(['ST: a', 'LOCATION: http://u:p@10.0.0.1/d.xml']), '10.0.0.1')), 'bad-url');
  assert.equal(code(() => parseSsdpResponse(answer(['ST: a', 'LOCATION: http://10.0.0.9/d.xml']), '10.0.0.1')), 'bad-url');
  assert.equal(code(() => parseSsdpResponse(answer(['ST: a', 'LOCATION: http://router.lan/d.xml']), '10.0.0.1')), 'bad-url');
  assert.equal(parseSsdpResponse(answer(['ST: a', 'LOCATION: http://router.lan/d.xml']))?.location, 'http://router.lan/d.xml', 'without a sender to check, any http host');
});

// The device description (UDA 2.0 §2.3): which WAN connection service we pick and where its
// control URL resolves, with the limits and the URL checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IgdError, parseIgdDescription } from '../../../../src/nat/upnp/index.js';
import { MINIUPNPD_ROOT_DESC, PPP_IGD_V1_DESC } from './fixtures.js';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof IgdError, `expected IgdError, got ${String(err)}`);
    return err.code;
  }
  return 'no error';
}

const desc = (services: string, urlBase = ''): string =>
  `<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0">${urlBase}<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><serviceList>${services}</serviceList></device></root>`;
const service = (type: string, controlUrl: string): string => `<service><serviceType>${type}</serviceType><controlURL>${controlUrl}</controlURL></service>`;

test("miniupnpd's IGDv2 description: WANIPConnection:2 three devices deep, control URL against LOCATION", () => {
  assert.deepEqual(parseIgdDescription(MINIUPNPD_ROOT_DESC, 'http://192.168.77.1:39523/rootDesc.xml'), {
    location: 'http://192.168.77.1:39523/rootDesc.xml',
    serviceType: 'urn:schemas-upnp-org:service:WANIPConnection:2',
    controlUrl: 'http://192.168.77.1:39523/ctl/IPConn',
    friendlyName: 'WANConnectionDevice',
  });
});

test('an IGDv1 PPP router: WANPPPConnection:1, relative control URL against URLBase, entities decoded', () => {
  const s = parseIgdDescription(PPP_IGD_V1_DESC, 'http://192.168.1.1:5000/igd.xml');
  assert.equal(s.serviceType, 'urn:schemas-upnp-org:service:WANPPPConnection:1');
  assert.equal(s.controlUrl, 'http://192.168.1.1:49000/upnp/control/WANPPPConn1');
  assert.equal(s.friendlyName, 'PPP link');
});

test('WANIPConnection:2 is preferred over :1 and over WANPPPConnection:1, whatever the order', () => {
  const xml = desc(
    service('urn:schemas-upnp-org:service:WANPPPConnection:1', '/ppp') +
      service('urn:schemas-upnp-org:service:WANIPConnection:1', '/ip1') +
      service('urn:schemas-upnp-org:service:WANIPConnection:2', '/ip2'),
  );
  assert.equal(parseIgdDescription(xml, 'http://10.0.0.1/d.xml').controlUrl, 'http://10.0.0.1/ip2');
  const v1 = desc(service('urn:schemas-upnp-org:service:WANPPPConnection:1', '/ppp') + service('urn:schemas-upnp-org:service:WANIPConnection:1', '/ip1'));
  assert.equal(parseIgdDescription(v1, 'http://10.0.0.1/d.xml').controlUrl, 'http://10.0.0.1/ip1');
});

test('a device without a WAN connection service is not an IGD', () => {
  assert.equal(code(() => parseIgdDescription(desc(service('urn:schemas-upnp-org:service:Layer3Forwarding:1', '/l3f')), 'http://10.0.0.1/d.xml')), 'no-igd');
});

test('a control URL on another host or scheme is refused', () => {
  const other = desc(service('urn:schemas-upnp-org:service:WANIPConnection:1', 'http://10.0.0.99/ctl'));
  assert.equal(code(() => parseIgdDescription(other, 'http://10.0.0.1/d.xml')), 'bad-url');
  const base = desc(service('urn:schemas-upnp-org:service:WANIPConnection:1', 'ctl'), '<URLBase>http://10.0.0.99/</URLBase>');
  assert.equal(code(() => parseIgdDescription(base, 'http://10.0.0.1/d.xml')), 'bad-url');
  const ftp = desc(service('urn:schemas-upnp-org:service:WANIPConnection:1', 'ftp://10.0.0.1/ctl'));
  assert.equal(code(() => parseIgdDescription(ftp, 'http://10.0.0.1/d.xml')), 'bad-url');
});

test('not XML, no <root>, too deep, or too many services: IgdError', () => {
  assert.notEqual(code(() => parseIgdDescription('<root><device>', 'http://10.0.0.1/d.xml')), 'no error');
  assert.equal(code(() => parseIgdDescription('<html><body>router login</body></html>', 'http://10.0.0.1/d.xml')), 'malformed');
  assert.equal(code(() => parseIgdDescription(`<root>${'<a>'.repeat(40)}${'</a>'.repeat(40)}</root>`, 'http://10.0.0.1/d.xml')), 'malformed');
  const many = desc(Array.from({ length: 70 }, (_, i) => service(`urn:x:service:S:${i}`, `/s${i}`)).join(''));
  assert.equal(code(() => parseIgdDescription(many, 'http://10.0.0.1/d.xml')), 'too-large');
});

test('DOCTYPE entities do not expand into each other (no billion laughs)', () => {
  const bomb =
    '<?xml version="1.0"?><!DOCTYPE root [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>' +
    `<root><device><friendlyName>&b;&b;&b;&b;</friendlyName><serviceList>${service('urn:schemas-upnp-org:service:WANIPConnection:1', '/c')}</serviceList></device></root>`;
  const s = parseIgdDescription(bomb, 'http://10.0.0.1/d.xml');
  assert.ok((s.friendlyName ?? '').length < 100, `friendlyName expanded to ${s.friendlyName?.length} chars`);
});

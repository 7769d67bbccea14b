// SOAP control messages (UDA 2.0 §3.2): the envelope we send, out-arguments back, and faults as
// UpnpError with the UPnP errorCode.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IgdError, UPNP_ERROR, UpnpError, buildSoapRequest, parseSoapResponse } from '../../../../src/nat/upnp/index.js';
import { soapFault, soapResponse } from './fixtures.js';

const WANIP2 = 'urn:schemas-upnp-org:service:WANIPConnection:2';

test('the request envelope names the action in the service namespace, arguments in order, escaped', () => {
  const xml = buildSoapRequest(WANIP2, 'AddPortMapping', [['NewExternalPort', 5060], ['NewPortMappingDescription', 'a<b & "c"']]);
  assert.equal(
    xml,
    '<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">' +
      `<s:Body><u:AddPortMapping xmlns:u="${WANIP2}"><NewExternalPort>5060</NewExternalPort>` +
      '<NewPortMappingDescription>a&lt;b &amp; &quot;c&quot;</NewPortMappingDescription></u:AddPortMapping></s:Body></s:Envelope>\r\n',
  );
});

test('action and argument names are checked before they go into XML', () => {
  assert.throws(() => buildSoapRequest(WANIP2, 'Add><x', []), IgdError);
  assert.throws(() => buildSoapRequest(WANIP2, 'AddPortMapping', [['a b', 1]]), IgdError);
});

test('out-arguments come back by name, empty ones as empty strings', () => {
  const out = parseSoapResponse(soapResponse('GetGenericPortMappingEntry', WANIP2, { NewRemoteHost: '', NewExternalPort: 5060, NewProtocol: 'UDP' }), 'GetGenericPortMappingEntry');
  assert.deepEqual([...out], [['NewRemoteHost', ''], ['NewExternalPort', '5060'], ['NewProtocol', 'UDP']]);
});

test("miniupnpd's self-closing AddPortMappingResponse is a success with no out-arguments", () => {
  const xml = `<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:AddPortMappingResponse xmlns:u="${WANIP2}"/></s:Body></s:Envelope>`;
  assert.equal(parseSoapResponse(xml, 'AddPortMapping').size, 0);
});

test('a fault becomes UpnpError with the errorCode as code', () => {
  assert.throws(
    () => parseSoapResponse(soapFault(718, 'ConflictInMappingEntry'), 'AddPortMapping'),
    (err: unknown) => err instanceof UpnpError && err.code === UPNP_ERROR.ConflictInMappingEntry && err.description === 'ConflictInMappingEntry' && err.action === 'AddPortMapping',
  );
  assert.throws(() => parseSoapResponse(soapFault(725, 'OnlyPermanentLeasesSupported'), 'AddPortMapping'), (err: unknown) => err instanceof UpnpError && err.code === 725);
});

test('a fault without a UPnP errorCode, a body without the response, or no envelope: IgdError malformed', () => {
  const noCode = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultstring>oops</faultstring></s:Fault></s:Body></s:Envelope>';
  assert.throws(() => parseSoapResponse(noCode, 'AddPortMapping'), (err: unknown) => err instanceof IgdError && err.code === 'malformed');
  assert.throws(() => parseSoapResponse(soapResponse('Other', WANIP2, {}), 'AddPortMapping'), (err: unknown) => err instanceof IgdError && err.code === 'malformed');
  assert.throws(() => parseSoapResponse('<html/>', 'AddPortMapping'), (err: unknown) => err instanceof IgdError && err.code === 'malformed');
});

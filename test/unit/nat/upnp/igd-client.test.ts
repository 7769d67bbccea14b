// The IGD client over real HTTP and UDP on loopback: a small fake IGD answers SSDP, serves its
// description and takes SOAP actions, so the wire format, faults, limits and timeouts are checked
// without a router. (miniupnpd itself is in test/lab/upnp-pcp.test.ts.)
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { IgdClient, IgdError, UpnpError, discoverIgd, localAddressFor, type IgdService } from '../../../../src/nat/upnp/index.js';
import { MINIUPNPD_ROOT_DESC, soapFault, soapResponse } from './fixtures.js';

const WANIP2 = 'urn:schemas-upnp-org:service:WANIPConnection:2';

interface SoapCall {
  readonly soapAction: string | undefined;
  readonly contentType: string | undefined;
  readonly body: string;
}

let http: Server;
let base: string;
const calls: SoapCall[] = [];
/** What the fake IGD does with the next control request. */
let answer: (call: SoapCall, res: ServerResponse) => void = () => {};

before(async () => {
  http = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.url === '/rootDesc.xml') return void res.end(MINIUPNPD_ROOT_DESC.replaceAll('192.168.77.1', '127.0.0.1'));
      if (req.url === '/huge.xml') return void res.end('<root>' + 'x'.repeat(70_000) + '</root>');
      const call = { soapAction: req.headers.soapaction as string | undefined, contentType: req.headers['content-type'], body };
      calls.push(call);
      answer(call, res);
    });
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

after(() => {
  http.closeAllConnections();
  http.close();
});

const service = (): IgdService => ({ location: `${base}/rootDesc.xml`, serviceType: WANIP2, controlUrl: `${base}/ctl/IPConn` });
const reply = (status: number, body: string) => (_: SoapCall, res: ServerResponse) => {
  res.writeHead(status, { 'Content-Type': 'text/xml; charset="utf-8"' });
  res.end(body);
};

test('GetExternalIPAddress: SOAPAction header, text/xml body, the address back (a reserved one too)', async () => {
  calls.length = 0;
  answer = reply(200, soapResponse('GetExternalIPAddress', WANIP2, { NewExternalIPAddress: '203.0.113.1' }));
  const client = new IgdClient(service());
  assert.equal(await client.getExternalIpAddress(), '203.0.113.1');
  assert.equal(calls[0]?.soapAction, `"${WANIP2}#GetExternalIPAddress"`);
  assert.match(calls[0]?.contentType ?? '', /^text\/xml/);
  assert.match(calls[0]?.body ?? '', /<u:GetExternalIPAddress xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:2"><\/u:GetExternalIPAddress>/);
});

test('AddPortMapping sends the eight arguments in the order the service description gives', async () => {
  calls.length = 0;
  answer = reply(200, soapResponse('AddPortMapping', WANIP2, {}));
  await new IgdClient(service()).addPortMapping({
    externalPort: 5062, protocol: 'udp', internalPort: 5060, internalClient: '192.168.77.2', description: 'deskphone-agent udp/5060', leaseDurationS: 3600,
  });
  const args = [...(calls[0]?.body ?? '').matchAll(/<(New\w+)>([^<]*)<\/New\w+>/g)].map((m) => [m[1], m[2]]);
  assert.deepEqual(args, [
    ['NewRemoteHost', ''], ['NewExternalPort', '5062'], ['NewProtocol', 'UDP'], ['NewInternalPort', '5060'],
    ['NewInternalClient', '192.168.77.2'], ['NewEnabled', '1'], ['NewPortMappingDescription', 'deskphone-agent udp/5060'], ['NewLeaseDuration', '3600'],
  ]);
});

test('a 500 with a SOAP fault is an UpnpError carrying the errorCode', async () => {
  answer = reply(500, soapFault(718, 'ConflictInMappingEntry'));
  await assert.rejects(
    new IgdClient(service()).addPortMapping({ externalPort: 5062, protocol: 'udp', internalPort: 5060, internalClient: '192.168.77.2', description: 'x', leaseDurationS: 0 }),
    (err: unknown) => err instanceof UpnpError && err.code === 718,
  );
});

test('an HTTP error without a fault is IgdError http-status', async () => {
  answer = reply(404, 'not here');
  await assert.rejects(new IgdClient(service()).deletePortMapping(5062, 'udp'), (err: unknown) => err instanceof IgdError && err.code === 'http-status');
});

test('GetGenericPortMappingEntry and GetSpecificPortMappingEntry parse the entry strictly', async () => {
  answer = reply(200, soapResponse('GetGenericPortMappingEntry', WANIP2, {
    NewRemoteHost: '', NewExternalPort: 5062, NewProtocol: 'UDP', NewInternalPort: 5060, NewInternalClient: '192.168.77.2',
    NewEnabled: 1, NewPortMappingDescription: 'deskphone-agent udp/5060', NewLeaseDuration: 1800,
  }));
  const client = new IgdClient(service());
  assert.deepEqual(await client.getGenericPortMappingEntry(0), {
    remoteHost: '', externalPort: 5062, protocol: 'udp', internalPort: 5060, internalClient: '192.168.77.2',
    enabled: true, description: 'deskphone-agent udp/5060', leaseDurationS: 1800,
  });
  answer = reply(200, soapResponse('GetSpecificPortMappingEntry', WANIP2, {
    NewInternalPort: 5060, NewInternalClient: '192.168.77.2', NewEnabled: 1, NewPortMappingDescription: 'x', NewLeaseDuration: 0,
  }));
  assert.equal((await client.getSpecificPortMappingEntry(5062, 'tcp')).protocol, 'tcp');
  answer = reply(200, soapResponse('GetSpecificPortMappingEntry', WANIP2, { NewInternalPort: 'http', NewLeaseDuration: 0 }));
  await assert.rejects(client.getSpecificPortMappingEntry(5062, 'tcp'), (err: unknown) => err instanceof IgdError && err.code === 'malformed');
});

test('limits: a body over the limit is too-large, a stalled IGD times out, close() aborts', async () => {
  answer = reply(200, soapResponse('GetExternalIPAddress', WANIP2, { NewExternalIPAddress: '203.0.113.1', Padding: 'x'.repeat(20_000) }));
  await assert.rejects(new IgdClient(service()).getExternalIpAddress(), (err: unknown) => err instanceof IgdError && err.code === 'too-large');
  answer = () => {}; // never answers
  await assert.rejects(new IgdClient(service(), { timeoutMs: 100 }).getExternalIpAddress(), (err: unknown) => err instanceof IgdError && err.code === 'timeout');
  const client = new IgdClient(service());
  const pending = client.getExternalIpAddress();
  setTimeout(() => client.close(), 20);
  await assert.rejects(pending, (err: unknown) => err instanceof IgdError && err.code === 'closed');
  await assert.rejects(client.getExternalIpAddress(), (err: unknown) => err instanceof IgdError && err.code === 'closed');
});

async function ssdpResponder(location: (port: number) => string): Promise<{ socket: Socket; searches: string[] }> {
  const socket = createSocket('udp4');
  const searches: string[] = [];
  socket.on('message', (msg, rinfo) => {
    searches.push(msg.toString('latin1'));
    const st = /\r\nST: ([^\r]+)/.exec(msg.toString('latin1'))?.[1] ?? '';
    socket.send(`HTTP/1.1 200 OK\r\nST: ${st}\r\nLOCATION: ${location(rinfo.port)}\r\nUSN: uuid:x::${st}\r\n\r\n`, rinfo.port, rinfo.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { socket, searches };
}

test('discovery: M-SEARCH for IGD:1 and IGD:2, LOCATION followed, the WANIPConnection:2 service found', async () => {
  const { socket, searches } = await ssdpResponder(() => `${base}/rootDesc.xml`);
  try {
    const s = await discoverIgd({ target: { address: '127.0.0.1', port: socket.address().port }, timeoutMs: 2000 });
    assert.equal(s.controlUrl, `${base}/ctl/IPConn`);
    assert.equal(s.serviceType, WANIP2);
    assert.ok(searches.some((m) => m.includes('ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1')));
    assert.ok(searches.some((m) => m.includes('ST: urn:schemas-upnp-org:device:InternetGatewayDevice:2')));
  } finally {
    socket.close();
  }
});

test('discovery gives up with no-igd when answers point elsewhere or descriptions are too big', async () => {
  const elsewhere = await ssdpResponder(() => 'http://127.0.0.2:1/rootDesc.xml');
  const huge = await ssdpResponder(() => `${base}/huge.xml`);
  try {
    await assert.rejects(
      discoverIgd({ target: { address: '127.0.0.1', port: elsewhere.socket.address().port }, timeoutMs: 300 }),
      (err: unknown) => err instanceof IgdError && err.code === 'no-igd' && /not the sender/.test(err.message),
    );
    await assert.rejects(
      discoverIgd({ target: { address: '127.0.0.1', port: huge.socket.address().port }, timeoutMs: 300 }),
      (err: unknown) => err instanceof IgdError && err.code === 'no-igd' && /over 65536/.test(err.message),
    );
  } finally {
    elsewhere.socket.close();
    huge.socket.close();
  }
});

test('localAddressFor names the local address routing picks, without sending', async () => {
  assert.equal(await localAddressFor('127.0.0.1'), '127.0.0.1');
});

// Every RFC 4475 message sent as a UDP datagram to a running UA: requests get the response the
// RFC expects (400, 505, 416, 420, 415, 481, ...) or are dropped, responses are dropped, and the
// UA keeps answering afterwards. Loopback only.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, test } from 'node:test';
import { DEFAULT_TIMERS } from '../../src/sip/transaction/index.js';
import { UserAgent } from '../../src/sip/ua/index.js';
import { SystemClock } from '../../src/util/index.js';
import { corpus } from '../helpers/conformance.js';

const FILES = corpus('rfc4475');
let ua: UserAgent;

before(async () => {
  ua = new UserAgent({
    clock: new SystemClock(), addresses: ['127.0.0.1'], port: 0, transports: ['UDP'], timers: () => DEFAULT_TIMERS,
    userAgent: 'conformance', advertised: () => ({ host: '127.0.0.1', port: ua.port }), rateLimit: { ratePerS: 10_000, burst: 10_000 },
  });
  await ua.start();
});
after(() => ua.close());

/**
 * Sends one datagram and collects the final answers that come back: until `expect` of them have
 * arrived (up to 3 s, so a loaded machine is not mistaken for a silent UA), or for 150 ms when
 * none is expected. A Via of ours is put on top so responses come back here: the corpus's own
 * Vias name 192.0.2.x hosts, and nothing may be sent off this machine.
 */
async function exchange(bytes: Buffer, expect: number): Promise<number[]> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const me = sock.address().port;
  const statuses: number[] = [];
  let done: () => void = () => undefined;
  const arrived = new Promise<void>((r) => {
    done = r;
  });
  sock.on('message', (m) => {
    const code = /^SIP\/2\.0 (\d{3})/.exec(m.toString('latin1'))?.[1];
    if (code && code !== '100') statuses.push(Number(code));
    if (expect > 0 && statuses.length >= expect) done();
  });
  const eol = bytes.indexOf('\r\n');
  const ours = Buffer.from(`\r\nVia: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bK-conformance-${me};rport`);
  sock.send(eol < 0 ? bytes : Buffer.concat([bytes.subarray(0, eol), ours, bytes.subarray(eol)]), ua.port, '127.0.0.1');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([arrived, new Promise((r) => (timer = setTimeout(r, expect > 0 ? 3000 : 150)))]);
  clearTimeout(timer);
  sock.close();
  return statuses;
}

// What a UA (not a proxy or registrar) answers to each request; responses and undeliverable
// requests get nothing.
// What a UA (not a proxy or registrar) with no call handler answers to each request (INVITE →
// 480, methods it does not implement → 405, requests in an unknown dialog → 481); responses get
// nothing. test.dat has a header line without a colon: nothing can be read to answer it.
const EXPECTED: Record<string, number[]> = {
  // 3.1.1 valid
  wsinv: [481], intmeth: [405], esc01: [480], escnull: [405], esc02: [405], lwsdisp: [200], longreq: [480],
  dblreq: [405], semiuri: [200], transports: [200], mpart01: [405], unreason: [], noreason: [],
  // 3.1.2 invalid
  badinv01: [400], clerr: [400], ncl: [400], scalar02: [400], scalarlg: [], quotbal: [400], ltgtruri: [400],
  lwsruri: [400], lwsstart: [400], trws: [400], escruri: [400], baddate: [480], regbadct: [400], badaspec: [400],
  baddn: [400], badvers: [505], mismatch01: [400], mismatch02: [400], bigcode: [],
  // 3.2, 3.3, 3.4
  badbranch: [200], insuf: [400], unkscm: [416], novelsc: [416], unksm2: [405], bext01: [420], invut: [415],
  regaut01: [405], multi01: [400], mcl01: [400], bcast: [], zeromf: [200], cparam01: [405], cparam02: [405],
  regescrt: [405], sdp01: [480], inv2543: [480], test: [],
};

test('each RFC 4475 message over UDP gets the expected answer or none, and the UA survives them all', async () => {
  const got: Record<string, number[]> = {};
  for (const [f, bytes] of FILES) {
    const name = f.replace('.dat', '');
    got[name] = await exchange(bytes, EXPECTED[name]?.length ?? 0);
  }
  if (process.env['SHOW']) console.log(JSON.stringify(got));
  assert.equal(Object.keys(EXPECTED).length, FILES.size);
  for (const [name, want] of Object.entries(EXPECTED)) {
    assert.deepEqual(got[name], want, `${name}: got ${got[name]?.join(',') || 'nothing'}`);
  }
  // The same request again with a new branch is a merged request (§8.2.2.2) ...
  assert.deepEqual(await exchange(FILES.get('lwsdisp.dat') as Buffer, 1), [482]);
  // ... and a new one is answered: the UA is still up.
  const fresh = Buffer.from((FILES.get('lwsdisp.dat') as Buffer).toString('latin1').replace(/Call-ID: [^\r]+/, 'Call-ID: still-alive'), 'latin1');
  assert.deepEqual(await exchange(fresh, 1), [200], 'still answering');
});

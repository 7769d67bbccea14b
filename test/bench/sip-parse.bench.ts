// Parse + serialise throughput of a typical INVITE with SDP and its 200 OK, messages per second
// on one core, side by side with the parsers of the npm packages `sip` and `jssip`.
// Run: npm run build && node dist/test/bench/sip-parse.bench.js
import { createRequire } from 'node:module';
import { parseMessage, serializeMessage, getVias, getCSeq, getFrom, getTo, getCallId } from '../../src/sip/message/index.js';

const require = createRequire(import.meta.url);
const sipPkg = require('sip') as { parse(s: string): { headers: { via: unknown[]; cseq: unknown; from: unknown; to: unknown; 'call-id': string } } | undefined; stringify(m: unknown): string };
const jssipParser = require('jssip/lib/Parser') as { parseMessage(data: string, ua: unknown): { toString(): string; getHeader(n: string): unknown; via_branch?: string; call_id?: string } | undefined };
const jssipPkg = require('jssip/package.json') as { version: string };
const sipVersion = (require('sip/package.json') as { version: string }).version;

const SDP = [
  'v=0', 'o=alice 2890844526 2890844526 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0',
  'm=audio 49170 RTP/AVP 0 8 9 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:9 G722/8000',
  'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=sendrecv', '',
].join('\r\n');

const INVITE = [
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@biloxi.example.com>',
  'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@192.0.2.10:5060;transport=udp>',
  'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, INFO, REFER, NOTIFY',
  'Supported: 100rel, timer, replaces',
  'User-Agent: deskphone-agent/0.1.0',
  'Content-Type: application/sdp',
  `Content-Length: ${Buffer.byteLength(SDP)}`,
  '',
  SDP,
].join('\r\n');

const OK = [
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport=5060;received=203.0.113.7',
  'Record-Route: <sip:proxy.biloxi.example.com;lr>',
  'To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf',
  'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:bob@198.51.100.20:5070>',
  'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS',
  'Content-Type: application/sdp',
  `Content-Length: ${Buffer.byteLength(SDP)}`,
  '',
  SDP,
].join('\r\n');

const MESSAGES = [Buffer.from(INVITE), Buffer.from(OK)];
const UA_STUB = {};

type Impl = { name: string; run(buf: Buffer): void };

/** Each does what a stack needs per message: parse, read the transaction/dialog keys, serialise. */
const IMPLS: Impl[] = [
  {
    name: 'deskphone-agent',
    run(buf) {
      const m = parseMessage(buf);
      getVias(m);
      getCSeq(m);
      getFrom(m);
      getTo(m);
      getCallId(m);
      serializeMessage(m);
    },
  },
  {
    name: `sip ${sipVersion}`,
    run(buf) {
      const m = sipPkg.parse(buf.toString());
      if (!m) throw new Error('sip could not parse');
      void m.headers.via, m.headers.cseq, m.headers.from, m.headers.to, m.headers['call-id'];
      sipPkg.stringify(m);
    },
  },
  {
    name: `jssip ${jssipPkg.version}`,
    run(buf) {
      const m = jssipParser.parseMessage(buf.toString(), UA_STUB);
      if (!m) throw new Error('jssip could not parse');
      m.getHeader('via');
      m.getHeader('cseq');
      m.toString();
    },
  },
];

function measure(impl: Impl, ms: number): number {
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) impl.run(MESSAGES[i & 1] as Buffer);
    n += 100;
  }
  return (n / ms) * 1000;
}

// Silence jssip's debug logger.
process.env['DEBUG'] = '';
for (const impl of IMPLS) measure(impl, 300); // warm-up (JIT)
const rounds = 5;
const results = new Map<string, number[]>();
for (let r = 0; r < rounds; r++) for (const impl of IMPLS) results.set(impl.name, [...(results.get(impl.name) ?? []), measure(impl, 1000)]);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const ours = median(results.get('deskphone-agent') ?? []);
console.log(`parse + serialise, INVITE with SDP (${MESSAGES[0]?.length} B) and 200 OK (${MESSAGES[1]?.length} B) alternating, median of ${rounds} × 1 s on one core:`);
for (const [name, xs] of results) {
  const m = median(xs);
  console.log(`  ${name.padEnd(18)} ${Math.round(m).toLocaleString('en').padStart(10)} msg/s   ${name === 'deskphone-agent' ? '' : `(ours ${(ours / m).toFixed(1)}×)`}`);
}

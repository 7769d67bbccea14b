// Fuzzing the message parser with fast-check (fixed seed, bounded runs): byte-level mutations of
// the RFC 4475/5118 corpora and generated messages. Every input either parses to a message whose
// serialisation re-parses to the same message, or is rejected with a SipParseError — nothing else.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  SipParseError, StreamFramer, checkRequest, checkResponse, getContacts, getVias, parseMessage, serializeMessage,
  type SipMessage,
} from '../../../../src/sip/message/index.js';
import { corpus } from '../../../helpers/conformance.js';
import { REPO_ROOT } from '../../../helpers/paths.js';

const SEED = 4475;
const SEEDS = [...corpus('rfc4475').values(), ...corpus('rfc5118').values()];
const REGRESSIONS = join(REPO_ROOT, 'test', 'unit', 'sip', 'message', 'regressions');

/** Parses, and if that works, checks the round trip and exercises the lazy accessors. */
function property(bytes: Uint8Array): void {
  let m: SipMessage;
  try {
    m = parseMessage(bytes);
  } catch (err) {
    if (err instanceof SipParseError) return;
    throw err;
  }
  const again = parseMessage(serializeMessage(m));
  assert.equal(again.kind, m.kind);
  assert.deepEqual(serializeMessage(again), serializeMessage(m));
  // Accessors must only ever throw SipParseError too.
  for (const f of [() => (m.kind === 'request' ? checkRequest(m) : checkResponse(m)), () => getVias(m), () => getContacts(m)]) {
    try {
      f();
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
    }
  }
}

type Mutation = { kind: 'flip' | 'insert' | 'delete' | 'dup' | 'truncate'; at: number; byte: number; len: number };

function mutate(seed: Buffer, muts: Mutation[]): Buffer {
  let b = Buffer.from(seed);
  for (const m of muts) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    switch (m.kind) {
      case 'flip':
        if (b.length) b[at] = m.byte;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), Buffer.from([m.byte]), b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
        break;
      case 'dup':
        b = Buffer.concat([b.subarray(0, at + m.len), b.subarray(at, at + m.len), b.subarray(at + m.len)]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
    }
  }
  return b;
}

const INTERESTING = [0x00, 0x0a, 0x0d, 0x20, 0x09, 0x22, 0x25, 0x2c, 0x3a, 0x3b, 0x3c, 0x3e, 0x40, 0x5b, 0x5d, 0x5c, 0xff, 0x7f];

const mutation = fc.record({
  kind: fc.constantFrom('flip', 'insert', 'delete', 'dup', 'truncate' as const),
  at: fc.nat(),
  byte: fc.oneof(fc.constantFrom(...INTERESTING), fc.integer({ min: 0, max: 255 })),
  len: fc.integer({ min: 1, max: 16 }),
}) as fc.Arbitrary<Mutation>;

test('byte-level mutations of the torture corpora parse cleanly or fail with SipParseError', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: SEEDS.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 6 }), (i, muts) => {
      property(mutate(SEEDS[i] as Buffer, muts));
    }),
    { seed: SEED, numRuns: 6000 },
  );
});

const token = fc.stringMatching(/^[A-Za-z0-9\-.!%*_+`'~]{1,12}$/);
const hostname = fc.stringMatching(/^[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){0,3}$/);
const quotedText = fc.string({ maxLength: 20 }).map((s) => s.replace(/[\r\n]/g, ''));
const generatedRequest = fc.record({
  method: token,
  user: fc.option(fc.stringMatching(/^[A-Za-z0-9;?/&=+$,%-]{1,12}$/), { nil: undefined }),
  host: hostname,
  port: fc.option(fc.integer({ min: 0, max: 70000 }), { nil: undefined }),
  display: fc.option(quotedText, { nil: undefined }),
  tag: token,
  cseq: fc.bigInt({ min: 0n, max: 1n << 40n }),
  via: fc.array(fc.tuple(fc.constantFrom('UDP', 'TCP', 'TLS', 'SCTP', 'X'), hostname, token), { minLength: 0, maxLength: 4 }),
  extra: fc.array(fc.tuple(token, quotedText), { maxLength: 5 }),
  body: fc.uint8Array({ maxLength: 64 }),
  lengthDelta: fc.integer({ min: -3, max: 3 }),
});

test('generated requests with random fields parse cleanly or fail with SipParseError', () => {
  fc.assert(
    fc.property(generatedRequest, (g) => {
      const uri = `sip:${g.user ? `${g.user}@` : ''}${g.host}${g.port !== undefined ? `:${g.port}` : ''}`;
      const lines = [
        `${g.method} ${uri} SIP/2.0`,
        ...g.via.map(([t, h, b]) => `Via: SIP/2.0/${t} ${h};branch=z9hG4bK${b}`),
        `From: ${g.display !== undefined ? `"${g.display.replace(/["\\]/g, '\\$&')}" ` : ''}<${uri}>;tag=${g.tag}`,
        `To: <${uri}>`,
        `Call-ID: ${g.tag}@${g.host}`,
        `CSeq: ${g.cseq} ${g.method}`,
        ...g.extra.map(([n, v]) => `${n}: ${v}`),
        `Content-Length: ${Math.max(0, g.body.length + g.lengthDelta)}`,
        '',
        '',
      ];
      property(Buffer.concat([Buffer.from(lines.join('\r\n')), g.body]));
    }),
    { seed: SEED, numRuns: 3000 },
  );
});

test('the stream framer survives arbitrary chunking and garbage without unbounded buffering', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: SEEDS.length - 1 }), fc.array(mutation, { maxLength: 3 }), fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 }), (i, muts, cuts) => {
      const bytes = mutate(SEEDS[i] as Buffer, muts);
      const framer = new StreamFramer({ maxBytes: 4096 });
      let at = 0;
      try {
        for (const c of [...cuts, bytes.length]) {
          framer.push(bytes.subarray(at, at + c));
          at += c;
          assert.ok(framer.buffered <= 4096 + 300, 'buffer stays bounded');
          if (at >= bytes.length) break;
        }
      } catch (err) {
        if (!(err instanceof SipParseError)) throw err;
      }
    }),
    { seed: SEED, numRuns: 2000 },
  );
});

// No input has failed these properties yet (400,000 extra mutations over 20 seeds while writing
// them). The folder keeps the edge cases found while writing the conformance tests — a BOM that
// String.prototype.trim ate, bare CRs, doubled compact Content-Length — and every future finding.
test('kept regression inputs parse cleanly or fail with SipParseError', () => {
  const files = readdirSync(REGRESSIONS).filter((f) => f.endsWith('.bin'));
  assert.ok(files.length > 0);
  for (const f of files) property(readFileSync(join(REGRESSIONS, f)));
});

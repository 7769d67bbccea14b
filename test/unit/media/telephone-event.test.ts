// RFC 4733 §2.3 telephone-event payload: the 4-octet layout, the §3.2 digit codes, and the
// limits of each field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DTMF_DIGITS, TelephoneEventError, decodeTelephoneEvent, dtmfDigitOf, dtmfEventCode, encodeTelephoneEvent, validateTelephoneEvent,
} from '../../../src/media/index.js';

test('encodes digit 5, end bit, −10 dBm0 and 800 units as 05 8a 03 20', () => {
  const bytes = encodeTelephoneEvent({ event: 5, end: true, volume: 10, duration: 800 });
  assert.deepEqual([...bytes], [0x05, 0x8a, 0x03, 0x20]);
});

test('an update without the end bit leaves bit 0x80 of the second octet clear', () => {
  const bytes = encodeTelephoneEvent({ event: 11, end: false, volume: 63, duration: 0xffff });
  assert.deepEqual([...bytes], [0x0b, 0x3f, 0xff, 0xff]);
});

test('every field decodes to what was encoded, for all sixteen digits and the field extremes', () => {
  for (let event = 0; event < 16; event++) {
    for (const e of [
      { event, end: false, volume: 0, duration: 0 },
      { event, end: true, volume: 63, duration: 0xffff },
    ]) {
      assert.deepEqual(decodeTelephoneEvent(encodeTelephoneEvent(e)), e);
    }
  }
});

test('the reserved R bit is ignored on receipt (§2.3.3)', () => {
  const decoded = decodeTelephoneEvent(Uint8Array.of(0x01, 0xc0 | 7, 0x00, 0xa0));
  assert.deepEqual(decoded, { event: 1, end: true, volume: 7, duration: 160 });
});

test('decodes a payload that is a view into a larger datagram', () => {
  const datagram = Uint8Array.of(0xaa, 0xbb, 0x09, 0x0a, 0x01, 0x40);
  assert.deepEqual(decodeTelephoneEvent(datagram.subarray(2)), { event: 9, end: false, volume: 10, duration: 320 });
});

test('a payload shorter than 4 octets is a too-short error value, not an exception', () => {
  const err = decodeTelephoneEvent(Uint8Array.of(1, 2, 3));
  assert.ok(err instanceof TelephoneEventError);
  assert.equal(err.code, 'too-short');
});

test('encoding a field outside its wire range throws invalid-field naming the field', () => {
  for (const [bad, field] of [
    [{ event: 256, end: false, volume: 0, duration: 0 }, 'event'],
    [{ event: 1, end: false, volume: 64, duration: 0 }, 'volume'],
    [{ event: 1, end: false, volume: 0, duration: 0x10000 }, 'duration'],
    [{ event: 1, end: false, volume: 0, duration: -1 }, 'duration'],
    [{ event: 1.5, end: false, volume: 0, duration: 0 }, 'event'],
  ] as const) {
    const err = validateTelephoneEvent(bad);
    assert.ok(err instanceof TelephoneEventError);
    assert.equal(err.code, 'invalid-field');
    assert.match(err.message, new RegExp(`^${field} `));
    assert.throws(() => encodeTelephoneEvent(bad), (e: unknown) => e instanceof TelephoneEventError && e.code === 'invalid-field');
  }
});

test('maps 0-9, *, #, A-D to event codes 0-15 and back (§3.2)', () => {
  assert.deepEqual(DTMF_DIGITS.map((d) => dtmfEventCode(d)), [...Array(16).keys()]);
  assert.equal(dtmfEventCode('*'), 10);
  assert.equal(dtmfEventCode('#'), 11);
  assert.equal(dtmfEventCode('d'), 15);
  for (let code = 0; code < 16; code++) assert.equal(dtmfDigitOf(code), DTMF_DIGITS[code]);
});

test('flash (16) and other non-digit events have no DTMF digit', () => {
  assert.equal(dtmfDigitOf(16), undefined);
  assert.equal(dtmfDigitOf(255), undefined);
});

test('a character that is not a DTMF digit is an unknown-digit error value', () => {
  for (const bad of ['E', 'x', '', '12', ' ']) {
    const err = dtmfEventCode(bad);
    assert.ok(err instanceof TelephoneEventError, `'${bad}'`);
    assert.equal(err.code, 'unknown-digit');
  }
});

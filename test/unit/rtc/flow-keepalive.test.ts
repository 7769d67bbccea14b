import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlowKeepalive, KEEPALIVE_ANSWER_TIMEOUT_MS } from '../../../src/rtc/flow-keepalive.js';

test('keep-alives go out between 80 % and 100 % of the interval (RFC 5626 §4.4.1)', () => {
  assert.deepEqual(new FlowKeepalive('nat', 25_000, () => 0).start(1000), [{ kind: 'wakeAt', atMs: 21_000 }]);
  assert.deepEqual(new FlowKeepalive('nat', 25_000, () => 1).start(1000), [{ kind: 'wakeAt', atMs: 26_000 }]);
});

test('NAT mode only sends: no answer is awaited and nothing fails', () => {
  const k = new FlowKeepalive('nat', 10_000, () => 1);
  k.start(0);
  assert.deepEqual(k.wake(10_000), [{ kind: 'ping', expectAnswer: false }, { kind: 'wakeAt', atMs: 20_000 }]);
  assert.deepEqual(k.wake(20_000), [{ kind: 'ping', expectAnswer: false }, { kind: 'wakeAt', atMs: 30_000 }]);
});

test('outbound mode waits for the answer; an answer schedules the next keep-alive', () => {
  const k = new FlowKeepalive('outbound', 30_000, () => 1);
  k.start(0);
  assert.deepEqual(k.wake(30_000), [{ kind: 'ping', expectAnswer: true }, { kind: 'wakeAt', atMs: 30_000 + KEEPALIVE_ANSWER_TIMEOUT_MS }]);
  assert.deepEqual(k.answered(30_050), [{ kind: 'wakeAt', atMs: 60_050 }]);
  assert.deepEqual(k.answered(30_060), [], 'a duplicate answer changes nothing');
});

test('outbound mode: no answer within 10 s means the flow failed, once', () => {
  const k = new FlowKeepalive('outbound', 30_000, () => 1);
  k.start(0);
  k.wake(30_000);
  assert.deepEqual(k.wake(35_000), [{ kind: 'wakeAt', atMs: 40_000 }], 'an early wake-up waits out the timeout');
  assert.deepEqual(k.wake(40_000), [{ kind: 'failed' }]);
  assert.deepEqual(k.wake(70_000), [], 'a failed flow sends nothing more');
  assert.throws(() => new FlowKeepalive('nat', 0), RangeError);
});

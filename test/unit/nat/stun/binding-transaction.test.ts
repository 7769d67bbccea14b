// The Binding transaction machine (RFC 8489 §6.2.1, §6.3): retransmissions at the times the RFC
// names, driven by calling wake() with those times; responses, error responses and the timeout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BindingTransaction, StunError, decodeStunMessage, encodeStunMessage, newTransactionId, shortTermKey, type BindingAction,
  type BindingOutcome, type DecodedStunMessage, type StunAttribute,
} from '../../../../src/nat/stun/index.js';

const request = (attributes: StunAttribute[] = []) => ({
  method: 0x001, class: 'request' as const, transactionId: newTransactionId(), attributes,
});

function response(tx: BindingTransaction, cls: 'success' | 'error', attributes: StunAttribute[], key?: Uint8Array): DecodedStunMessage {
  return decodeStunMessage(encodeStunMessage(
    { method: 0x001, class: cls, transactionId: tx.transactionId, attributes },
    key ? { integrity: { key } } : {},
  ));
}

const MAPPED: StunAttribute = { kind: 'xor-mapped-address', address: { family: 'IPv4', address: '198.51.100.7', port: 40001 } };

/** Drives the machine like a driver with a perfect timer would; returns the send times and the outcome. */
function runToEnd(tx: BindingTransaction): { sendsAtMs: number[]; outcome: BindingOutcome; endMs: number } {
  const sendsAtMs: number[] = [];
  let actions: BindingAction[] = tx.start(0);
  let now = 0;
  for (;;) {
    let next: number | undefined;
    for (const a of actions) {
      if (a.kind === 'send') sendsAtMs.push(now);
      if (a.kind === 'wakeAt') next = a.atMs;
      if (a.kind === 'done') return { sendsAtMs, outcome: a.outcome, endMs: now };
    }
    assert.ok(next !== undefined, 'every step asks for a wake-up until done');
    now = next;
    actions = tx.wake(now);
  }
}

test('with no answer: 7 sends at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s, then timeout at 39.5 s', () => {
  const tx = new BindingTransaction({ request: request() });
  const { sendsAtMs, outcome, endMs } = runToEnd(tx);
  assert.deepEqual(sendsAtMs, [0, 500, 1500, 3500, 7500, 15500, 31500]);
  assert.equal(endMs, 39500);
  assert.deepEqual(outcome, { kind: 'timeout', sends: 7, elapsedMs: 39500 });
  assert.equal(tx.state, 'done');
});

test('RTO, Rc and Rm are configurable: 100 ms, 3 sends, Rm 4 give sends at 0, 100, 300 and timeout at 700 ms', () => {
  const { sendsAtMs, endMs } = runToEnd(new BindingTransaction({ request: request(), rtoMs: 100, rc: 3, rm: 4 }));
  assert.deepEqual(sendsAtMs, [0, 100, 300]);
  assert.equal(endMs, 700);
});

test('every send carries the same bytes: the request with FINGERPRINT', () => {
  const tx = new BindingTransaction({ request: request([{ kind: 'software', value: 'x' }]) });
  const first = tx.start(0);
  const again = tx.wake(500);
  const bytes = first.find((a) => a.kind === 'send');
  assert.ok(bytes?.kind === 'send');
  assert.deepEqual(again.find((a) => a.kind === 'send'), bytes);
  assert.deepEqual(decodeStunMessage(bytes.bytes).attributes.map((a) => a.kind), ['software', 'fingerprint']);
  assert.equal(tx.sends, 2);
});

test('a wake-up before the due time only repeats the wake-up', () => {
  const tx = new BindingTransaction({ request: request() });
  tx.start(0);
  assert.deepEqual(tx.wake(499), [{ kind: 'wakeAt', atMs: 500 }]);
  assert.equal(tx.sends, 1);
});

test('a success response ends the transaction with the mapped address and, sent once, the RTT', () => {
  const tx = new BindingTransaction({ request: request() });
  tx.start(1000);
  const actions = tx.receive(response(tx, 'success', [
    { kind: 'mapped-address', address: { family: 'IPv4', address: '10.0.0.1', port: 1 } }, MAPPED,
    { kind: 'response-origin', address: { family: 'IPv4', address: '192.0.2.1', port: 3478 } },
    { kind: 'other-address', address: { family: 'IPv4', address: '192.0.2.2', port: 3479 } },
  ]), 1042);
  assert.equal(actions.length, 1);
  const done = actions[0];
  assert.ok(done?.kind === 'done' && done.outcome.kind === 'success');
  assert.deepEqual(done.outcome.mappedAddress, { family: 'IPv4', address: '198.51.100.7', port: 40001 }, 'XOR-MAPPED preferred');
  assert.deepEqual(done.outcome.responseOrigin, { family: 'IPv4', address: '192.0.2.1', port: 3478 });
  assert.deepEqual(done.outcome.otherAddress, { family: 'IPv4', address: '192.0.2.2', port: 3479 });
  assert.equal(done.outcome.rttMs, 42);
  assert.deepEqual(tx.wake(1500), [], 'no retransmission after done');
  assert.deepEqual(tx.receive(response(tx, 'success', [MAPPED]), 1600), [], 'a duplicate response is ignored');
});

test('an RFC 3489 server: MAPPED-ADDRESS, SOURCE-ADDRESS and CHANGED-ADDRESS stand in; no RTT after a retransmission', () => {
  const tx = new BindingTransaction({ request: request() });
  tx.start(0);
  tx.wake(500);
  const [done] = tx.receive(response(tx, 'success', [
    { kind: 'mapped-address', address: { family: 'IPv4', address: '10.0.0.1', port: 5 } },
    { kind: 'source-address', address: { family: 'IPv4', address: '192.0.2.1', port: 3478 } },
    { kind: 'changed-address', address: { family: 'IPv4', address: '192.0.2.2', port: 3479 } },
  ]), 700);
  assert.ok(done?.kind === 'done' && done.outcome.kind === 'success');
  assert.equal(done.outcome.mappedAddress.address, '10.0.0.1');
  assert.equal(done.outcome.responseOrigin?.port, 3478);
  assert.equal(done.outcome.otherAddress?.port, 3479);
  assert.equal(done.outcome.rttMs, undefined, "Karn's rule");
});

test('a 420 error response reports the code, reason and the unknown attributes', () => {
  const tx = new BindingTransaction({ request: request([{ kind: 'raw', type: 0x7777, value: new Uint8Array(4) }]) });
  tx.start(0);
  const [done] = tx.receive(response(tx, 'error', [
    { kind: 'error-code', code: 420, reason: 'Unknown Attribute' }, { kind: 'unknown-attributes', types: [0x7777] },
  ]), 10);
  assert.ok(done?.kind === 'done' && done.outcome.kind === 'error-response');
  assert.equal(done.outcome.code, 420);
  assert.equal(done.outcome.reason, 'Unknown Attribute');
  assert.deepEqual(done.outcome.unknownAttributes, [0x7777]);
});

test('a 300 error response names the ALTERNATE-SERVER', () => {
  const tx = new BindingTransaction({ request: request() });
  tx.start(0);
  const [done] = tx.receive(response(tx, 'error', [
    { kind: 'error-code', code: 300, reason: 'Try Alternate' },
    { kind: 'alternate-server', address: { family: 'IPv4', address: '203.0.113.1', port: 3478 } },
  ]), 10);
  assert.ok(done?.kind === 'done' && done.outcome.kind === 'error-response');
  assert.deepEqual(done.outcome.alternateServer, { family: 'IPv4', address: '203.0.113.1', port: 3478 });
});

test('unusable responses fail the transaction: no mapped address, no ERROR-CODE, unknown required attributes', () => {
  const problem = (cls: 'success' | 'error', attributes: StunAttribute[]): string => {
    const tx = new BindingTransaction({ request: request() });
    tx.start(0);
    const [done] = tx.receive(response(tx, cls, attributes), 1);
    assert.ok(done?.kind === 'done' && done.outcome.kind === 'malformed-response');
    return done.outcome.problem;
  };
  assert.equal(problem('success', [{ kind: 'software', value: 's' }]), 'success response without a mapped address');
  assert.equal(problem('error', []), 'error response without ERROR-CODE');
  assert.equal(problem('success', [MAPPED, { kind: 'raw', type: 0x0042, value: new Uint8Array(0) }]), 'unknown comprehension-required attributes 0x0042');
});

test('messages that are not responses to this transaction are ignored and retransmissions go on', () => {
  const tx = new BindingTransaction({ request: request() });
  tx.start(0);
  const other = new BindingTransaction({ request: request() });
  assert.deepEqual(tx.receive(response(other, 'success', [MAPPED]), 5), []);
  const asRequest = decodeStunMessage(encodeStunMessage({ method: 1, class: 'request', transactionId: tx.transactionId, attributes: [] }));
  assert.deepEqual(tx.receive(asRequest, 6), []);
  const allocate = decodeStunMessage(encodeStunMessage({ method: 3, class: 'success', transactionId: tx.transactionId, attributes: [MAPPED] }));
  assert.deepEqual(tx.receive(allocate, 7), []);
  assert.equal(tx.state, 'trying');
  assert.equal(tx.wake(500).filter((a) => a.kind === 'send').length, 1);
});

test('with a short-term key, the request carries MESSAGE-INTEGRITY and unauthenticated answers are dropped', () => {
  const key = shortTermKey('pass');
  const tx = new BindingTransaction({ request: request([{ kind: 'username', value: 'a:b' }]), integrity: { key } });
  const [send] = tx.start(0);
  assert.ok(send?.kind === 'send');
  assert.deepEqual(decodeStunMessage(send.bytes).attributes.map((a) => a.kind), ['username', 'message-integrity', 'fingerprint']);
  assert.deepEqual(tx.receive(response(tx, 'success', [MAPPED]), 1), [], 'no MESSAGE-INTEGRITY');
  assert.deepEqual(tx.receive(response(tx, 'success', [MAPPED], shortTermKey('forged')), 2), [], 'wrong key');
  const [done] = tx.receive(response(tx, 'success', [MAPPED], key), 3);
  assert.equal(done?.kind === 'done' && done.outcome.kind, 'success');
  const challenged = new BindingTransaction({ request: request(), integrity: { key } });
  challenged.start(0);
  const [unauth] = challenged.receive(response(challenged, 'error', [{ kind: 'error-code', code: 401, reason: 'Unauthenticated' }]), 1);
  assert.ok(unauth?.kind === 'done' && unauth.outcome.kind === 'error-response' && unauth.outcome.code === 401, '401 carries no integrity');
});

test('illegal steps throw a StunError naming the states: start twice, receive or wake before start', () => {
  const tx = new BindingTransaction({ request: request() });
  assert.throws(() => tx.wake(0), (e: unknown) => e instanceof StunError && e.code === 'bad-state' && /idle/.test(e.message));
  assert.throws(() => tx.receive(response(tx, 'success', [MAPPED]), 0), (e: unknown) => e instanceof StunError && e.code === 'bad-state');
  tx.start(0);
  assert.throws(() => tx.start(1), (e: unknown) => e instanceof StunError && e.code === 'bad-state' && /from trying to trying/.test(e.message));
});

test('only a Binding request with sane retransmission parameters makes a transaction', () => {
  const bad = (f: () => unknown): void => assert.throws(f, (e: unknown) => e instanceof StunError && e.code === 'bad-value');
  bad(() => new BindingTransaction({ request: { ...request(), class: 'indication' } }));
  bad(() => new BindingTransaction({ request: { ...request(), method: 3 } }));
  bad(() => new BindingTransaction({ request: request(), rtoMs: 0 }));
  bad(() => new BindingTransaction({ request: request(), rc: 0 }));
});

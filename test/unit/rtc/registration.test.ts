import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registration, RegistrationError } from '../../../src/rtc/registration.js';

const ok = (grantedS?: number) => ({ status: 200, reason: 'OK', grantedS });

test('registers, then refreshes at half the granted expiry, not the requested one', () => {
  const r = new Registration({ expiresS: 600 });
  assert.deepEqual(r.start(), [{ kind: 'state', state: 'registering' }, { kind: 'send', expiresS: 600, removeOld: false }]);
  assert.deepEqual(r.response(ok(120), 1000), [{ kind: 'state', state: 'registered', expiresS: 120 }, { kind: 'wakeAt', atMs: 61_000 }]);
  assert.equal(r.publicState, 'registered');
  assert.equal(r.expiresS, 120);
  assert.deepEqual(r.wake(), [{ kind: 'send', expiresS: 600, removeOld: false }]);
  assert.equal(r.state, 'refreshing');
  assert.equal(r.publicState, 'registered', 'a refresh in flight still counts as registered');
});

test('423 Interval Too Brief raises the expiry to Min-Expires and retries at once', () => {
  const r = new Registration({ expiresS: 60 });
  r.start();
  assert.deepEqual(r.response({ status: 423, reason: 'Interval Too Brief', minExpiresS: 300 }, 0), [{ kind: 'send', expiresS: 300, removeOld: false }]);
  assert.deepEqual(r.response(ok(300), 0).map((a) => a.kind), ['state', 'wakeAt']);
  assert.deepEqual(r.wake(), [{ kind: 'send', expiresS: 300, removeOld: false }], 'later refreshes keep the raised expiry');
});

test('a 423 without a usable Min-Expires is a failure, not a loop', () => {
  const r = new Registration({ expiresS: 600, random: () => 1 });
  r.start();
  const actions = r.response({ status: 423, reason: 'Interval Too Brief', minExpiresS: 600 }, 0);
  assert.deepEqual(actions[0], { kind: 'state', state: 'failed', reason: '423 Interval Too Brief' });
});

test('failures back off per RFC 5626 §4.5: doubling from the base time, capped, randomised between 50 and 100 %', () => {
  const r = new Registration({ expiresS: 600, random: () => 1 });
  r.start();
  const waits: number[] = [];
  let now = 0;
  for (let i = 0; i < 8; i++) {
    const a = r.response({ status: 403, reason: 'Forbidden' }, now);
    const wake = a.find((x) => x.kind === 'wakeAt');
    assert.ok(wake && wake.kind === 'wakeAt');
    waits.push((wake.atMs - now) / 1000);
    now = wake.atMs;
    r.wake();
  }
  assert.deepEqual(waits, [60, 120, 240, 480, 960, 1800, 1800, 1800]);
  const half = new Registration({ expiresS: 600, random: () => 0 });
  assert.equal(half.backoffMs(1), 30_000, 'the random part never goes below half');
});

test('Retry-After overrides the back-off; success resets the failure count', () => {
  const r = new Registration({ expiresS: 600, random: () => 1 });
  r.start();
  assert.deepEqual(r.response({ status: 503, reason: 'Service Unavailable', retryAfterS: 7 }, 0)[1], { kind: 'wakeAt', atMs: 7000 });
  assert.equal(r.publicState, 'failed');
  r.wake();
  r.response(ok(600), 7000);
  r.wake();
  assert.deepEqual(r.timeout('no response (Timer F)', 400_000)[1], { kind: 'wakeAt', atMs: 460_000 }, 'first failure again: 60 s');
});

test('an address change re-registers at once and removes the old Contact', () => {
  const r = new Registration({ expiresS: 600 });
  r.start();
  r.response(ok(600), 0);
  assert.deepEqual(r.addressChanged(), [{ kind: 'send', expiresS: 600, removeOld: true }]);
  const idle = new Registration({ expiresS: 600 });
  assert.deepEqual(idle.addressChanged(), [], 'nothing to do before the first registration');
});

test('stop un-registers a binding we hold, and the answer ends in unregistered', () => {
  const r = new Registration({ expiresS: 600 });
  r.start();
  r.response(ok(600), 0);
  assert.deepEqual(r.stop(), [{ kind: 'send', expiresS: 0, removeOld: false }]);
  assert.deepEqual(r.stop(), [], 'a second stop does nothing');
  assert.deepEqual(r.response(ok(0), 10), [{ kind: 'state', state: 'unregistered', reason: 'unregistered' }]);
  assert.equal(r.state, 'idle');
  const failed = new Registration({ expiresS: 600, random: () => 1 });
  failed.start();
  failed.timeout('transport error', 0);
  assert.deepEqual(failed.stop(), [{ kind: 'state', state: 'unregistered', reason: 'stopped' }], 'no binding, nothing to send');
});

test('late responses are ignored and illegal transitions throw a typed error naming the state', () => {
  const r = new Registration({ expiresS: 600 });
  assert.deepEqual(r.response(ok(600), 0), [], 'no REGISTER in flight');
  r.start();
  assert.throws(() => r.start(), (e: unknown) => e instanceof RegistrationError && e.from === 'registering');
  r.response(ok(600), 0);
  assert.deepEqual(r.response(ok(600), 0), [], 'a duplicate final response');
});

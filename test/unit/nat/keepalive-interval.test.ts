// nat.keepaliveIntervalS: the setting wins; 0 takes 45 % of the measured binding lifetime
// (two jittered keep-alives fit inside it), bounded; 25 s until a lifetime is measured.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KEEPALIVE_FALLBACK_S, KEEPALIVE_MAX_S, KEEPALIVE_MIN_S, keepaliveInterval } from '../../../src/nat/keepalive-interval.js';

test('a non-zero setting is used as it is, measured lifetime or not', () => {
  assert.deepEqual(keepaliveInterval(40, { bindingLifetimeS: 4 }), { intervalS: 40, source: 'setting', reason: 'nat.keepaliveIntervalS is 40 s' });
});

test('0 with nothing measured falls back to 25 s', () => {
  const k = keepaliveInterval(0, undefined);
  assert.equal(k.intervalS, KEEPALIVE_FALLBACK_S);
  assert.equal(k.source, 'fallback');
});

test('0 with a measured lifetime: 45 % of it, so two keep-alives at 80-100 % of the interval fit inside the binding', () => {
  for (const lifetimeS of [4, 20, 30, 60, 120]) {
    const k = keepaliveInterval(0, { bindingLifetimeS: lifetimeS, bindingExpiredS: lifetimeS + 5 });
    assert.equal(k.source, 'measured');
    assert.ok(2 * k.intervalS <= lifetimeS, `${lifetimeS} s → ${k.intervalS} s`);
    assert.ok(k.intervalS >= 0.4 * lifetimeS, `not needlessly short: ${lifetimeS} s → ${k.intervalS} s`);
  }
  assert.equal(keepaliveInterval(0, { bindingLifetimeS: 30, bindingExpiredS: 40 }).intervalS, 13.5);
  assert.match(keepaliveInterval(0, { bindingLifetimeS: 30, bindingExpiredS: 40 }).reason, /^binding lifetime 30 s \(gone after 40 s\): 45 % of it is 13.5 s$/);
});

test('bounded: a binding gone within a second still gets 1 s, one that outlived every probe at most 120 s', () => {
  const short = keepaliveInterval(0, { bindingLifetimeS: 0, bindingExpiredS: 1 });
  assert.equal(short.intervalS, KEEPALIVE_MIN_S);
  assert.match(short.reason, /bounded/);
  const long = keepaliveInterval(0, { bindingLifetimeS: 600 });
  assert.equal(long.intervalS, KEEPALIVE_MAX_S);
  assert.match(long.reason, /at least 600 s/);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SourceRateLimiter, TokenBucket, TransactionCap } from '../../../../src/sip/protection/index.js';

test('a token bucket admits the burst, then the rate; it refills exactly', () => {
  const b = new TokenBucket(10, 5, 0);
  let ok = 0;
  for (let i = 0; i < 20; i++) if (b.take(0)) ok++;
  assert.equal(ok, 5);
  assert.equal(b.waitS(0), 1);
  assert.equal(b.take(99), false);
  assert.equal(b.take(100), true, 'one token per 100 ms at 10/s');
  let later = 0;
  for (let t = 100; t <= 1100; t += 10) if (b.take(t)) later++;
  assert.equal(later, 10);
});

test('each source has its own bucket; refused requests say when to retry', () => {
  const rl = new SourceRateLimiter({ ratePerS: 2, burst: 3 });
  const a = [0, 1, 2, 3].map(() => rl.admit('198.51.100.1', 0).ok);
  assert.deepEqual(a, [true, true, true, false]);
  assert.deepEqual(rl.admit('198.51.100.1', 0), { ok: false, retryAfterS: 1 });
  assert.equal(rl.admit('198.51.100.2', 0).ok, true, 'another source is not affected');
  assert.equal(rl.admit('198.51.100.1', 500).ok, true);
});

test('100,000 spoofed sources never hold more than the cap', () => {
  const rl = new SourceRateLimiter({ ratePerS: 10, burst: 10, maxSources: 1000 });
  for (let i = 0; i < 100_000; i++) rl.admit(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, i);
  assert.equal(rl.trackedSources, 1000);
});

test('a full limiter forgets the least recently seen source, not the first one added', () => {
  // One token each and no refill: a source still tracked is refused, a forgotten one starts afresh.
  const rl = new SourceRateLimiter({ ratePerS: 0.001, burst: 1, maxSources: 3 });
  for (const s of ['a', 'b', 'c']) assert.equal(rl.admit(s, 0).ok, true);
  assert.equal(rl.admit('a', 0).ok, false, 'a seen again: now the most recent');
  assert.equal(rl.admit('d', 0).ok, true, 'd takes the place of b');
  assert.equal(rl.trackedSources, 3);
  assert.equal(rl.admit('a', 0).ok, false, 'a is still tracked');
  assert.equal(rl.admit('c', 0).ok, false, 'c is still tracked');
  assert.equal(rl.admit('b', 0).ok, true, 'b was forgotten: a fresh bucket (and d, least recent now, goes)');
  assert.equal(rl.admit('a', 0).ok, false);
  assert.equal(rl.admit('d', 0).ok, true, 'd was forgotten');
});

test('a source seen again and again keeps its place without growing the limiter', () => {
  const rl = new SourceRateLimiter({ ratePerS: 1000, burst: 1000, maxSources: 2 });
  for (let i = 0; i < 10_000; i++) rl.admit(i % 7 === 0 ? 'other' : 'main', i);
  assert.equal(rl.trackedSources, 2);
  rl.admit('third', 10_000);
  assert.equal(rl.trackedSources, 2);
});

test('live reconfiguration applies to existing buckets', () => {
  const rl = new SourceRateLimiter({ ratePerS: 100, burst: 100 });
  rl.admit('s', 0);
  rl.configure(1, 1);
  assert.equal(rl.admit('s', 0).ok, true);
  assert.equal(rl.admit('s', 0).ok, false);
});

test('the transaction cap refuses above its maximum and frees on release', () => {
  const cap = new TransactionCap(2, 7);
  assert.equal(cap.tryAcquire().ok, true);
  assert.equal(cap.tryAcquire().ok, true);
  assert.deepEqual(cap.tryAcquire(), { ok: false, retryAfterS: 7 });
  cap.release();
  assert.equal(cap.tryAcquire().ok, true);
  assert.equal(cap.inUse, 2);
});

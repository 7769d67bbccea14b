// The playout delay estimate on its own: transit mean, jitter, and the asymmetric target.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PlayoutDelayEstimator } from '../../../src/media/index.js';

const opts = { minDelayMs: 20, maxDelayMs: 200, initialDelayMs: 60, jitterMultiplier: 3 };

test('starts at the initial target and has no transit mean before the first packet', () => {
  const e = new PlayoutDelayEstimator(opts);
  assert.equal(e.meanTransitMs, undefined);
  assert.equal(e.targetDelayMs, 60);
  assert.equal(e.jitterMs, 20);
});

test('transit alternating ±10 ms around 100 gives mean 100, jitter 10 and a target of 3 × 10 ms', () => {
  const e = new PlayoutDelayEstimator(opts);
  for (let i = 0; i < 2000; i++) e.update(i % 2 === 0 ? 90 : 110);
  assert.ok(Math.abs((e.meanTransitMs as number) - 100) < 0.5, `mean ${e.meanTransitMs}`);
  assert.ok(Math.abs(e.jitterMs - 10) < 0.5, `jitter ${e.jitterMs}`);
  assert.ok(Math.abs(e.targetDelayMs - 30) < 1.5, `target ${e.targetDelayMs}`);
});

test('the target is clamped to min and max', () => {
  const still = new PlayoutDelayEstimator(opts);
  for (let i = 0; i < 3000; i++) still.update(50);
  assert.ok(still.targetDelayMs < 20.01, `${still.targetDelayMs}`);
  const wild = new PlayoutDelayEstimator(opts);
  for (let i = 0; i < 200; i++) wild.update(i % 2 === 0 ? 0 : 400);
  assert.equal(wild.targetDelayMs, 200);
});

test('one packet stuck for 300 ms barely moves the mean transit', () => {
  const e = new PlayoutDelayEstimator(opts);
  for (let i = 0; i < 500; i++) e.update(i % 2 === 0 ? 95 : 105);
  e.update(400);
  assert.ok(Math.abs((e.meanTransitMs as number) - 100) < 0.5, `mean ${e.meanTransitMs}`);
  assert.ok(e.targetDelayMs > 30, 'but the jitter it shows raises the target at once');
});

test('a lasting shift in transit is followed within a few seconds', () => {
  const e = new PlayoutDelayEstimator(opts);
  for (let i = 0; i < 500; i++) e.update(100);
  for (let i = 0; i < 250; i++) e.update(250);
  assert.ok(Math.abs((e.meanTransitMs as number) - 250) < 5, `mean ${e.meanTransitMs}`);
});

test('resetTransit forgets the mean but keeps the target', () => {
  const e = new PlayoutDelayEstimator(opts);
  for (let i = 0; i < 100; i++) e.update(i % 2 === 0 ? 70 : 130);
  const target = e.targetDelayMs;
  e.resetTransit();
  assert.equal(e.meanTransitMs, undefined);
  assert.equal(e.targetDelayMs, target);
  e.update(5_000);
  assert.equal(e.meanTransitMs, 5_000);
});

test('rejects unordered bounds and a non-positive multiplier', () => {
  assert.throws(() => new PlayoutDelayEstimator({ ...opts, minDelayMs: 300 }), RangeError);
  assert.throws(() => new PlayoutDelayEstimator({ ...opts, jitterMultiplier: 0 }), RangeError);
});

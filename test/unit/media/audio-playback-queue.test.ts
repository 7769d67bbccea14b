// The playback queue: bounded waiting (oldest dropped) and a bounded lead over real time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AudioPlaybackQueue } from '../../../src/media/audio-playback-queue.js';

test('at most 200 ms waits: the oldest frames are dropped and counted', () => {
  const q = new AudioPlaybackQueue<number>({ frameMs: 10 });
  let dropped = 0;
  for (let i = 0; i < 25; i++) dropped += q.push(i);
  assert.equal(dropped, 5);
  assert.equal(q.dropped, 5);
  assert.equal(q.queuedFrames, 20);
  assert.equal(q.bufferedMs(0), 200);
  assert.deepEqual(q.drain(), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
});

test('hands the device at most the lead (60 ms) ahead of real time, then one frame per 10 ms', () => {
  const q = new AudioPlaybackQueue<number>({ frameMs: 10 });
  for (let i = 0; i < 10; i++) q.push(i);
  assert.deepEqual(q.take(1000), [0, 1, 2, 3, 4, 5]);
  assert.equal(q.aheadMs(1000), 60);
  assert.equal(q.bufferedMs(1000), 100);
  assert.deepEqual(q.take(1005), []);
  assert.equal(q.wakeAtMs(1005), 1010);
  assert.deepEqual(q.take(1010), [6]);
  assert.deepEqual(q.take(1030), [7, 8]);
  assert.equal(q.wakeAtMs(1030), 1040);
});

test('after a gap the device model starts from now, not from the past', () => {
  const q = new AudioPlaybackQueue<number>({ frameMs: 10, leadMs: 20 });
  q.push(1);
  assert.deepEqual(q.take(0), [1]);
  q.push(2);
  q.push(3);
  q.push(4);
  assert.deepEqual(q.take(500), [2, 3]);
  assert.equal(q.aheadMs(500), 20);
  assert.equal(q.wakeAtMs(500), 510);
});

test('a restarted device holds nothing: resetDevice() lets the lead refill at once', () => {
  const q = new AudioPlaybackQueue<number>({ frameMs: 10, leadMs: 30, maxQueuedMs: 100 });
  for (let i = 0; i < 6; i++) q.push(i);
  assert.deepEqual(q.take(0), [0, 1, 2]);
  q.resetDevice();
  assert.deepEqual(q.take(0), [3, 4, 5]);
  assert.equal(q.wakeAtMs(0), undefined, 'nothing waits');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock, TypedEmitter } from '../../../src/util/index.js';

test('the fake clock fires timers in time order, including ones set by timers', () => {
  const clock = new FakeClock();
  const fired: string[] = [];
  clock.setTimer(500, () => {
    fired.push(`a@${clock.now()}`);
    clock.setTimer(1000, () => fired.push(`c@${clock.now()}`));
  });
  const b = clock.setTimer(700, () => fired.push('b'));
  clock.setTimer(800, () => fired.push(`d@${clock.now()}`));
  clock.cancel(b);
  clock.advance(2000);
  assert.deepEqual(fired, ['a@500', 'd@800', 'c@1500']);
  assert.equal(clock.now(), 2000);
  assert.equal(clock.pending, 0);
});

test('a throwing listener is reported and the other listeners still run', () => {
  const errors: string[] = [];
  const em = new TypedEmitter<{ ping: number }>((_e, ev) => errors.push(ev));
  const got: number[] = [];
  em.on('ping', () => {
    throw new Error('bug');
  });
  const off = em.on('ping', (n) => got.push(n));
  em.emit('ping', 1);
  off();
  em.emit('ping', 2);
  assert.deepEqual(got, [1]);
  assert.deepEqual(errors, ['ping', 'ping']);
});

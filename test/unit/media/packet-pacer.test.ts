// The paced sender: absolute schedule (tick n at start + n·ptime), catch-up without drift,
// a cap on bursts after a stall; all on injected clocks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacketPacer, type PacerTick } from '../../../src/media/index.js';
import { FakeClock, type Clock, type TimerHandle } from '../../../src/util/index.js';

/** A clock whose timers fire only when the test says so, at whatever time the test has set: a stalled event loop. */
class StallingClock implements Clock {
  time = 0;
  private nextId = 1;
  readonly timers = new Map<number, { atMs: number; fn: () => void }>();

  now(): number {
    return this.time;
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { atMs: this.time + Math.max(0, delayMs), fn });
    return { id };
  }

  cancel(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete(handle.id);
  }

  /** Sets the time to `ms` and fires the timers due by then, once each, however late. */
  runAt(ms: number): void {
    this.time = ms;
    for (const [id, t] of [...this.timers]) {
      if (t.atMs <= ms) {
        this.timers.delete(id);
        t.fn();
      }
    }
  }

  get nextDueMs(): number | undefined {
    return [...this.timers.values()][0]?.atMs;
  }
}

/** Fires every timer a fixed time late, like a busy event loop. */
class LateClock implements Clock {
  constructor(
    private readonly inner: FakeClock,
    private readonly lateMs: number,
  ) {}

  now(): number {
    return this.inner.now();
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    return this.inner.setTimer(delayMs + this.lateMs, fn);
  }

  cancel(handle: TimerHandle | undefined): void {
    this.inner.cancel(handle);
  }
}

test('ticks every ptime on the absolute schedule start + n·ptime', () => {
  const clock = new FakeClock(1000);
  const ticks: PacerTick[] = [];
  const pacer = new PacketPacer({ clock, ptimeMs: 20, onTick: (t) => ticks.push(t) });
  pacer.start();
  clock.advance(100);
  assert.deepEqual(ticks, [1, 2, 3, 4, 5].map((index) => ({ index, dueMs: 1000 + 20 * index, lateMs: 0, skipped: 0 })));
  pacer.stop();
});

test('a fractional ptime does not drift: tick 1000 is due at exactly start + 1000·ptime', () => {
  const clock = new FakeClock();
  const ticks: PacerTick[] = [];
  const pacer = new PacketPacer({ clock, ptimeMs: 20 / 3, onTick: (t) => ticks.push(t) });
  pacer.start();
  clock.advance(20000 / 3 + 0.001);
  assert.equal(ticks.length, 1000);
  assert.ok(Math.abs((ticks[999]?.dueMs ?? 0) - 20000 / 3) < 1e-9);
  assert.ok(ticks.every((t) => Math.abs(t.lateMs) < 1e-9));
  pacer.stop();
});

test('timers that always fire late do not accumulate lateness', () => {
  const inner = new FakeClock();
  const fired: number[] = [];
  const pacer = new PacketPacer({ clock: new LateClock(inner, 7), ptimeMs: 20, onTick: () => fired.push(inner.now()) });
  pacer.start();
  inner.advance(20 * 500 + 10);
  assert.equal(fired.length, 500);
  fired.forEach((at, i) => assert.equal(at, 20 * (i + 1) + 7, `tick ${i + 1}`));
  pacer.stop();
});

test('after a stall the overdue ticks run at once, then the schedule resumes on time', () => {
  const clock = new StallingClock();
  const ticks: PacerTick[] = [];
  const pacer = new PacketPacer({ clock, ptimeMs: 20, onTick: (t) => ticks.push(t) });
  pacer.start();
  clock.runAt(70);
  assert.deepEqual(ticks, [
    { index: 1, dueMs: 20, lateMs: 50, skipped: 0 },
    { index: 2, dueMs: 40, lateMs: 30, skipped: 0 },
    { index: 3, dueMs: 60, lateMs: 10, skipped: 0 },
  ]);
  assert.equal(clock.nextDueMs, 80);
  clock.runAt(80);
  assert.deepEqual(ticks[3], { index: 4, dueMs: 80, lateMs: 0, skipped: 0 });
  pacer.stop();
});

test('after a stall longer than maxBurst ticks, the older ones are skipped and reported', () => {
  const clock = new StallingClock();
  const ticks: PacerTick[] = [];
  const pacer = new PacketPacer({ clock, ptimeMs: 20, maxBurst: 3, onTick: (t) => ticks.push(t) });
  pacer.start();
  clock.runAt(1000);
  assert.deepEqual(ticks.map((t) => [t.index, t.skipped]), [[48, 47], [49, 0], [50, 0]]);
  assert.equal(clock.nextDueMs, 1020);
  pacer.stop();
});

test('a timer that fires early re-arms for the remainder instead of ticking (no tolerance by default)', () => {
  const clock = new StallingClock();
  const ticks: PacerTick[] = [];
  const pacer = new PacketPacer({ clock, ptimeMs: 20, onTick: (t) => ticks.push(t) });
  pacer.start();
  clock.timers.forEach((t) => (t.atMs = 19.5));
  clock.runAt(19.5);
  assert.equal(ticks.length, 0);
  assert.equal(clock.nextDueMs, 20);
  clock.runAt(20);
  assert.deepEqual(ticks, [{ index: 1, dueMs: 20, lateMs: 0, skipped: 0 }]);
  pacer.stop();
});

test('with a tolerance, a timer that fires more than it early still re-arms for the remainder', () => {
  const clock = new StallingClock();
  const ticks: PacerTick[] = [];
  const pacer = new PacketPacer({ clock, ptimeMs: 20, earlyToleranceMs: 1, onTick: (t) => ticks.push(t) });
  pacer.start();
  clock.timers.forEach((t) => (t.atMs = 18.5));
  clock.runAt(18.5);
  assert.equal(ticks.length, 0);
  assert.equal(clock.nextDueMs, 20);
  clock.runAt(20);
  assert.deepEqual(ticks, [{ index: 1, dueMs: 20, lateMs: 0, skipped: 0 }]);
  pacer.stop();
});

test('a timer that fires within the tolerance before the tick ticks at once instead of waking again', () => {
  const clock = new StallingClock();
  const ticks: PacerTick[] = [];
  const pacer = new PacketPacer({ clock, ptimeMs: 20, earlyToleranceMs: 1, onTick: (t) => ticks.push(t) });
  pacer.start();
  clock.timers.forEach((t) => (t.atMs = 19.5));
  clock.runAt(19.5);
  assert.deepEqual(ticks, [{ index: 1, dueMs: 20, lateMs: -0.5, skipped: 0 }]);
  assert.equal(clock.nextDueMs, 40);
  pacer.stop();
});

test('stop() from inside a tick ends the catch-up burst and leaves no timer behind', () => {
  const clock = new StallingClock();
  const seen: number[] = [];
  const pacer = new PacketPacer({
    clock, ptimeMs: 20, onTick: (t) => {
      seen.push(t.index);
      if (t.index === 2) pacer.stop();
    },
  });
  pacer.start();
  clock.runAt(100);
  assert.deepEqual(seen, [1, 2]);
  assert.equal(clock.timers.size, 0);
  assert.equal(pacer.isRunning, false);
});

test('a throwing tick callback is reported and the schedule goes on', () => {
  const clock = new FakeClock();
  const errors: unknown[] = [];
  let calls = 0;
  const pacer = new PacketPacer({
    clock, ptimeMs: 20, onError: (e) => errors.push(e), onTick: () => {
      calls++;
      if (calls === 2) throw new Error('codec bug');
    },
  });
  pacer.start();
  clock.advance(80);
  assert.equal(calls, 4);
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as Error).message, 'codec bug');
  pacer.close();
  assert.equal(clock.pending, 0);
});

test('start() restarts the schedule from the current time after a stop', () => {
  const clock = new FakeClock();
  const ticks: PacerTick[] = [];
  const pacer = new PacketPacer({ clock, ptimeMs: 20, onTick: (t) => ticks.push(t) });
  pacer.start();
  clock.advance(30);
  pacer.stop();
  clock.advance(5);
  pacer.start();
  pacer.start();
  clock.advance(20);
  assert.deepEqual(ticks.map((t) => t.dueMs), [20, 55]);
  assert.equal(clock.pending, 1);
  pacer.stop();
});

test('refuses a ptime that is not positive', () => {
  assert.throws(() => new PacketPacer({ clock: new FakeClock(), ptimeMs: 0, onTick: () => {} }), RangeError);
});

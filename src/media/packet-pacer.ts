// Calls back every ptime ms on an absolute schedule: tick n is due at start + n·ptime, and each
// timer is set for the time remaining until the next due tick. A late timer therefore never
// shifts the ticks after it (no drift), and the ticks it was late for run at once (catch-up).
// After a long stall only the last `maxBurst` overdue ticks run; the older ones are skipped
// and reported, so the stream resumes in real time instead of flooding the peer.
//
// Node's timers count whole milliseconds of a loop clock that lags the real one by up to a
// millisecond, so a timer can fire before the tick it was set for; by default the pacer then
// re-arms for the rest (a second wake-up) rather than send early. `earlyToleranceMs` lets a tick
// due that soon run at once instead: one wake-up per tick, packets up to that much early. Measured
// on the 2-core VM (media-pacing.bench.js, one call): a 1 ms tolerance raised the send p99 from
// 0.7–1.0 ms to 1.5–1.7 ms for a CPU saving inside the run-to-run noise of media-call.bench.js,
// so calls run with none. (SystemClock rounds delays up to whole milliseconds, so a re-armed
// remainder is one timer, not a spin.)
import type { Clock, TimerHandle } from '../util/index.js';

export interface PacerTick {
  /** 1 for the first tick after start(), then 2, 3, … including skipped ones. */
  readonly index: number;
  readonly dueMs: number;
  /** How late this tick runs (clock time minus due time); down to −earlyToleranceMs for one run early. */
  readonly lateMs: number;
  /** Ticks skipped just before this one because of a stall longer than `maxBurst` ticks. */
  readonly skipped: number;
}

export interface PacketPacerOptions {
  readonly clock: Clock;
  readonly ptimeMs: number;
  readonly onTick: (tick: PacerTick) => void;
  /** Most overdue ticks run back to back after a stall; default 10. */
  readonly maxBurst?: number;
  /** A tick due within this many ms runs at once instead of re-arming the timer for the rest; default 0. */
  readonly earlyToleranceMs?: number;
  /** A throwing onTick is reported here (by default ignored, as TypedEmitter does) and the schedule goes on. */
  readonly onError?: (err: unknown) => void;
}

export class PacketPacer {
  private readonly clock: Clock;
  private readonly ptimeMs: number;
  private readonly maxBurst: number;
  private readonly earlyToleranceMs: number;
  private timer: TimerHandle | undefined;
  private running = false;
  private startMs = 0;
  private nextIndex = 1;

  constructor(private readonly opts: PacketPacerOptions) {
    if (!(opts.ptimeMs > 0)) throw new RangeError(`ptimeMs must be positive, got ${opts.ptimeMs}`);
    this.clock = opts.clock;
    this.ptimeMs = opts.ptimeMs;
    this.maxBurst = Math.max(1, opts.maxBurst ?? 10);
    this.earlyToleranceMs = Math.max(0, opts.earlyToleranceMs ?? 0);
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Starts the schedule now; the first tick is due one ptime later. A running pacer is left as is. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.startMs = this.clock.now();
    this.nextIndex = 1;
    this.arm();
  }

  stop(): void {
    this.running = false;
    this.clock.cancel(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
  }

  private dueMs(index: number): number {
    return this.startMs + index * this.ptimeMs;
  }

  private arm(): void {
    this.timer = this.clock.setTimer(this.dueMs(this.nextIndex) - this.clock.now(), this.onTimer);
  }

  private readonly onTimer = (): void => this.fire();

  private fire(): void {
    this.timer = undefined;
    const now = this.clock.now();
    const horizon = now + this.earlyToleranceMs;
    // Ticks nextIndex..lastDue are due (by the horizon); a timer that fires earlier than the
    // tolerance finds none and re-arms for the remainder. The division only estimates: due-ness
    // is decided by the same dueMs() the timer was armed with, so float rounding can neither
    // skip a tick nor re-arm forever at the same instant.
    let lastDue = Math.floor((horizon - this.startMs) / this.ptimeMs);
    while (this.dueMs(lastDue + 1) <= horizon) lastDue++;
    while (lastDue >= this.nextIndex && this.dueMs(lastDue) > horizon) lastDue--;
    let due = lastDue - this.nextIndex + 1;
    let skipped = 0;
    if (due > this.maxBurst) {
      skipped = due - this.maxBurst;
      this.nextIndex += skipped;
      due = this.maxBurst;
    }
    const first = this.nextIndex;
    this.nextIndex += Math.max(0, due);
    // Armed before the callbacks run, so one that calls stop() also cancels the next timer.
    this.arm();
    for (let i = 0; i < due; i++) {
      if (!this.running) return;
      const dueMs = this.dueMs(first + i);
      try {
        this.opts.onTick({ index: first + i, dueMs, lateMs: now - dueMs, skipped: i === 0 ? skipped : 0 });
      } catch (err) {
        this.opts.onError?.(err);
      }
    }
  }
}

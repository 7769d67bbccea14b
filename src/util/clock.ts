// Time is injected (STYLE.md): protocol code takes a Clock instead of calling
// Date.now/setTimeout, so tests can drive timers like RFC 3261's Timer B in microseconds.

export type TimerHandle = { readonly id: number };

export interface Clock {
  /** Milliseconds on a monotonic scale (not wall-clock time). */
  now(): number;
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  cancel(handle: TimerHandle | undefined): void;
}

/**
 * The real clock: performance.now() and Node timers, unref'd so they never hold the process open
 * alone. Delays are rounded up to whole milliseconds: Node fires a timer of 3.7 ms no earlier
 * than 4 ms of its loop clock anyway, but gets there by waking at 3 and again at 4 — one
 * wake-up too many, which a call's 20 ms pacer would pay 50 times a second.
 */
export class SystemClock implements Clock {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private nextId = 1;

  now(): number {
    return performance.now();
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    const t = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, Math.max(0, Math.ceil(delayMs)));
    t.unref();
    this.timers.set(id, t);
    return { id };
  }

  cancel(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const t = this.timers.get(handle.id);
    if (t) {
      clearTimeout(t);
      this.timers.delete(handle.id);
    }
  }

  /** Number of timers still pending; used by tests to prove owners release their timers. */
  get pending(): number {
    return this.timers.size;
  }
}

/** A deterministic clock for tests: time moves only when advance() is called. */
export class FakeClock implements Clock {
  private timeMs: number;
  private nextId = 1;
  private readonly timers = new Map<number, { atMs: number; fn: () => void }>();

  constructor(startMs = 0) {
    this.timeMs = startMs;
  }

  now(): number {
    return this.timeMs;
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { atMs: this.timeMs + Math.max(0, delayMs), fn });
    return { id };
  }

  cancel(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete(handle.id);
  }

  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing due timers in time order (ties in creation order). */
  advance(ms: number): void {
    const target = this.timeMs + ms;
    for (;;) {
      let due: { id: number; atMs: number; fn: () => void } | undefined;
      for (const [id, t] of this.timers) {
        if (t.atMs <= target && (!due || t.atMs < due.atMs || (t.atMs === due.atMs && id < due.id))) {
          due = { id, ...t };
        }
      }
      if (!due) break;
      this.timers.delete(due.id);
      this.timeMs = due.atMs;
      due.fn();
    }
    this.timeMs = target;
  }
}

// The frames waiting for a playback device, without I/O. Two bounds keep latency bounded:
// at most `maxQueuedMs` waits here (beyond it the oldest frames are dropped and counted, since
// late audio is worse than lost audio in a call), and at most `leadMs` is handed to the device
// ahead of real time. The device's own position is not visible through a pipe to aplay, so it
// is modelled: handed-over audio plays out at the nominal rate from when it was handed over.
// Without the lead bound a stalled or slow aplay would silently collect seconds of audio in
// its 64 KiB stdin pipe.

export type PlaybackQueueOptions = {
  readonly frameMs: number;
  /** Default 200 ms. */
  readonly maxQueuedMs?: number;
  /** Default 60 ms: ALSA's 40 ms buffer, one period in aplay's hands, one in the pipe. Infinity for a file. */
  readonly leadMs?: number;
};

export class AudioPlaybackQueue<F> {
  private readonly frameMs: number;
  private readonly maxFrames: number;
  private readonly leadMs: number;
  private readonly queue: F[] = [];
  /** Model time at which everything handed to the device will have played. */
  private deviceEndMs = Number.NEGATIVE_INFINITY;
  private droppedFrames = 0;

  constructor(opts: PlaybackQueueOptions) {
    this.frameMs = opts.frameMs;
    const maxQueuedMs = opts.maxQueuedMs ?? 200;
    this.maxFrames = Math.max(1, Math.floor(maxQueuedMs / opts.frameMs));
    this.leadMs = opts.leadMs ?? 60;
  }

  get dropped(): number {
    return this.droppedFrames;
  }

  get queuedFrames(): number {
    return this.queue.length;
  }

  /** Queues a frame; returns how many old frames were dropped to make room. */
  push(frame: F): number {
    this.queue.push(frame);
    let dropped = 0;
    while (this.queue.length > this.maxFrames) {
      this.queue.shift();
      dropped++;
    }
    this.droppedFrames += dropped;
    return dropped;
  }

  /** The frames that may go to the device at `nowMs`, oldest first. */
  take(nowMs: number): F[] {
    const out: F[] = [];
    while (this.queue.length > 0 && this.aheadMs(nowMs) + this.frameMs <= this.leadMs) {
      out.push(this.queue.shift() as F);
      this.deviceEndMs = Math.max(this.deviceEndMs, nowMs) + this.frameMs;
    }
    return out;
  }

  /** When take() will next yield a frame, if frames wait only for the device to catch up. */
  wakeAtMs(nowMs: number): number | undefined {
    if (this.queue.length === 0 || !Number.isFinite(this.leadMs)) return undefined;
    return Math.max(nowMs, this.deviceEndMs - this.leadMs + this.frameMs);
  }

  /** Modelled audio held by the device, in ms. */
  aheadMs(nowMs: number): number {
    return Math.max(0, this.deviceEndMs - nowMs);
  }

  /** Written but not yet played: what waits here plus what the device holds. */
  bufferedMs(nowMs: number): number {
    return this.queue.length * this.frameMs + this.aheadMs(nowMs);
  }

  /** A new device (restarted helper) holds nothing yet. */
  resetDevice(): void {
    this.deviceEndMs = Number.NEGATIVE_INFINITY;
  }

  /** Takes every waiting frame regardless of the lead (a file is written as fast as it can). */
  drain(): F[] {
    return this.queue.splice(0, this.queue.length);
  }
}

// Devices without hardware: a capture paced by the injected Clock (one frame per 10 ms, from a
// tone, silence or a decoded file) and a playback that discards. With a FakeClock the tests
// step them frame by frame; with the system clock they stand in for a sound card. A consumer
// with a clock of its own (the audio pipeline's packet pacer) can pace the capture instead, so
// a call needs one timer, not two.
import { SystemClock, TypedEmitter, type Clock, type TimerHandle } from '../util/index.js';
import { SineSource } from './sine-source.js';
import {
  AUDIO_FRAME_MS, AudioDeviceError, assertSampleRate, checkFrame, samplesPerFrame,
  type AudioCapture, type AudioCaptureEvents, type AudioCaptureStats, type AudioPlayback, type AudioPlaybackEvents,
  type AudioPlaybackStats, type AudioSampleRateHz,
} from './audio-types.js';

/** The next `samples` samples, or undefined when the source has ended. */
export type FrameSource = (samples: number) => Int16Array | undefined;

export type PacedCaptureOptions = {
  readonly sampleRateHz: AudioSampleRateHz;
  /** Called by start(); a file source reads and checks its file here. */
  readonly open: () => FrameSource | Promise<FrameSource>;
  readonly clock?: Clock;
  readonly onListenerError?: (err: unknown, event: string) => void;
};

/** A late timer (a busy event loop) is caught up by at most this many frames; beyond, time skips. */
const MAX_CATCH_UP_FRAMES = 5;

export class PacedCapture implements AudioCapture {
  readonly sampleRateHz: AudioSampleRateHz;
  readonly samplesPerFrame: number;
  readonly events: TypedEmitter<AudioCaptureEvents>;
  private readonly clock: Clock;
  private readonly open: () => FrameSource | Promise<FrameSource>;
  private state: 'idle' | 'starting' | 'running' | 'ended' | 'closed' = 'idle';
  private source: FrameSource | undefined;
  private timer: TimerHandle | undefined;
  private nextDueMs = 0;
  private frames = 0;
  /** Paced by the consumer through consumerPaced(): no timer of its own. */
  private consumerClocked = false;

  constructor(opts: PacedCaptureOptions) {
    assertSampleRate(opts.sampleRateHz);
    this.sampleRateHz = opts.sampleRateHz;
    this.samplesPerFrame = samplesPerFrame(opts.sampleRateHz);
    this.events = new TypedEmitter<AudioCaptureEvents>(opts.onListenerError);
    this.clock = opts.clock ?? new SystemClock();
    this.open = opts.open;
  }

  async start(): Promise<void> {
    if (this.state !== 'idle') throw new AudioDeviceError('bad-state', `start() on a capture that is ${this.state}`);
    this.state = 'starting';
    const source = await this.open();
    if (this.state !== 'starting') return; // closed while opening
    this.source = source;
    this.state = 'running';
    if (this.consumerClocked) return;
    this.nextDueMs = this.clock.now() + AUDIO_FRAME_MS;
    this.schedule();
  }

  consumerPaced(): (frames: number, nowMs: number) => void {
    this.consumerClocked = true;
    this.clock.cancel(this.timer);
    this.timer = undefined;
    return (frames, nowMs) => {
      for (let i = frames - 1; i >= 0 && this.state === 'running'; i--) this.emitFrame(nowMs - i * AUDIO_FRAME_MS);
    };
  }

  async close(): Promise<void> {
    this.state = 'closed';
    this.clock.cancel(this.timer);
    this.timer = undefined;
  }

  stats(): AudioCaptureStats {
    return { frames: this.frames, restarts: 0, overruns: 0 };
  }

  private schedule(): void {
    this.timer = this.clock.setTimer(this.nextDueMs - this.clock.now(), () => this.tick());
  }

  private tick(): void {
    this.timer = undefined;
    const now = this.clock.now();
    let produced = 0;
    while (this.state === 'running' && this.nextDueMs <= now && produced < MAX_CATCH_UP_FRAMES) {
      produced++;
      const capturedAtMs = this.nextDueMs;
      this.nextDueMs += AUDIO_FRAME_MS;
      this.emitFrame(capturedAtMs);
    }
    if (this.state !== 'running') return;
    if (this.nextDueMs <= now) this.nextDueMs = now + AUDIO_FRAME_MS;
    this.schedule();
  }

  /** The source's next frame, or 'ended' when it has none left. */
  private emitFrame(capturedAtMs: number): void {
    const samples = this.source?.(this.samplesPerFrame);
    if (!samples) {
      this.state = 'ended';
      this.events.emit('ended', { frames: this.frames });
      return;
    }
    this.frames++;
    this.events.emit('frame', { samples, capturedAtMs });
  }
}

/** A phase-continuous sine; throws RangeError above Nyquist. */
export function toneSource(frequencyHz: number, sampleRateHz: AudioSampleRateHz, amplitude?: number): FrameSource {
  const sine = new SineSource({ frequencyHz, sampleRateHz, ...(amplitude === undefined ? {} : { amplitude }) });
  return (n) => sine.next(n);
}

export function silenceSource(): FrameSource {
  return (n) => new Int16Array(n);
}

/** Plays `samples` once (the last frame padded with silence) or in a seamless loop. */
export function samplesSource(samples: Int16Array, loop: boolean): FrameSource {
  let pos = 0;
  return (n) => {
    if (pos >= samples.length && (!loop || samples.length === 0)) return undefined;
    const out = new Int16Array(n);
    let filled = 0;
    while (filled < n) {
      if (pos >= samples.length) {
        if (!loop) break;
        pos = 0;
      }
      const take = Math.min(n - filled, samples.length - pos);
      out.set(samples.subarray(pos, pos + take), filled);
      filled += take;
      pos += take;
    }
    return out;
  };
}

/** A playback device that discards what it is given (and counts it). */
export class NullPlayback implements AudioPlayback {
  readonly sampleRateHz: AudioSampleRateHz;
  readonly samplesPerFrame: number;
  readonly events: TypedEmitter<AudioPlaybackEvents>;
  readonly bufferedMs = 0;
  private frames = 0;

  constructor(opts: { readonly sampleRateHz: AudioSampleRateHz; readonly onListenerError?: (err: unknown, event: string) => void }) {
    assertSampleRate(opts.sampleRateHz);
    this.sampleRateHz = opts.sampleRateHz;
    this.samplesPerFrame = samplesPerFrame(opts.sampleRateHz);
    this.events = new TypedEmitter<AudioPlaybackEvents>(opts.onListenerError);
  }

  async start(): Promise<void> {}

  write(frame: Int16Array): void {
    checkFrame(frame, this.samplesPerFrame);
    this.frames++;
  }

  async close(): Promise<void> {}

  stats(): AudioPlaybackStats {
    return { frames: this.frames, dropped: 0, restarts: 0, underruns: 0 };
  }
}

// ALSA through alsa-utils helper processes: arecord writes raw S16_LE to its stdout pipe and
// aplay reads it from its stdin. A child process keeps the daemon free of native bindings and lets a
// wedged USB device be recovered by killing a process. 10 ms periods in a 40 ms buffer keep
// the device latency low; AlsaChild restarts a helper that dies.
import type { Readable, Writable } from 'node:stream';
import { SystemClock, TypedEmitter, type Clock, type TimerHandle } from '../util/index.js';
import { AlsaChild, DEFAULT_ALSA_RESTART_POLICY, type AlsaRestartPolicy } from './audio-alsa-child.js';
import { AudioFrameCutter, pcmToBytes } from './audio-frame-cutter.js';
import { AudioPlaybackQueue } from './audio-playback-queue.js';
import {
  AUDIO_BYTES_PER_SAMPLE, AUDIO_FRAME_MS, assertSampleRate, checkFrame, samplesPerFrame,
  type AudioCapture, type AudioCaptureEvents, type AudioCaptureStats, type AudioPlayback, type AudioPlaybackEvents,
  type AudioPlaybackStats, type AudioSampleRateHz,
} from './audio-types.js';

export type AlsaDeviceOptions = {
  /** The ALSA PCM name, e.g. "default" or "plughw:CARD=Device". */
  readonly pcm: string;
  readonly sampleRateHz: AudioSampleRateHz;
  /** Added to the helper's environment; HOME selects the .asoundrc it reads. */
  readonly env?: Readonly<Record<string, string>>;
  /** The helper program; default arecord for capture, aplay for playback. */
  readonly command?: string;
  readonly periodTimeUs?: number;
  readonly bufferTimeUs?: number;
  readonly restart?: Partial<AlsaRestartPolicy>;
  /** SIGTERM → SIGKILL grace on close(); default 2000 ms. */
  readonly killTimeoutMs?: number;
  readonly clock?: Clock;
  readonly onListenerError?: (err: unknown, event: string) => void;
};

export type AlsaPlaybackOptions = AlsaDeviceOptions & {
  /** Frames waiting beyond this are dropped, oldest first; default 200 ms. */
  readonly maxQueuedMs?: number;
  /** How far ahead of real time audio is handed to aplay; default 60 ms. */
  readonly leadMs?: number;
  /** close() lets aplay play what it holds and exit by itself for this long before SIGTERM; default 500 ms. */
  readonly drainTimeoutMs?: number;
};

/** The arguments both helpers share: mono S16_LE raw at the device rate, 10 ms periods in a 40 ms buffer. */
export function alsaArgs(pcm: string, sampleRateHz: AudioSampleRateHz, periodTimeUs = 10_000, bufferTimeUs = 40_000): string[] {
  return ['-q', '-t', 'raw', '-f', 'S16_LE', '-c', '1', '-r', String(sampleRateHz), '-D', pcm, `--period-time=${periodTimeUs}`, `--buffer-time=${bufferTimeUs}`];
}

function childOptions(opts: AlsaDeviceOptions): { env?: Readonly<Record<string, string>>; policy: AlsaRestartPolicy; killTimeoutMs: number } {
  return {
    ...(opts.env ? { env: opts.env } : {}),
    policy: { ...DEFAULT_ALSA_RESTART_POLICY, ...opts.restart },
    killTimeoutMs: opts.killTimeoutMs ?? 2000,
  };
}

export class AlsaCapture implements AudioCapture {
  readonly sampleRateHz: AudioSampleRateHz;
  readonly samplesPerFrame: number;
  readonly events: TypedEmitter<AudioCaptureEvents>;
  private readonly clock: Clock;
  private readonly cutter: AudioFrameCutter;
  private readonly child: AlsaChild;
  private readonly bytesPerMs: number;
  private frames = 0;

  constructor(opts: AlsaDeviceOptions) {
    assertSampleRate(opts.sampleRateHz);
    this.sampleRateHz = opts.sampleRateHz;
    this.samplesPerFrame = samplesPerFrame(opts.sampleRateHz);
    this.bytesPerMs = (opts.sampleRateHz * AUDIO_BYTES_PER_SAMPLE) / 1000;
    this.events = new TypedEmitter<AudioCaptureEvents>(opts.onListenerError);
    this.clock = opts.clock ?? new SystemClock();
    this.cutter = new AudioFrameCutter(this.samplesPerFrame);
    this.child = new AlsaChild({
      command: opts.command ?? 'arecord',
      args: alsaArgs(opts.pcm, opts.sampleRateHz, opts.periodTimeUs, opts.bufferTimeUs),
      stdio: 'capture',
      clock: this.clock,
      ...childOptions(opts),
      hooks: {
        onSpawn: (child, restart) => {
          this.cutter.reset();
          this.attach(child.stdout);
          if (restart) this.events.emit('restarted', restart);
        },
        onGone: () => {},
        onXrun: (count) => this.events.emit('overrun', { count }),
        onError: (err) => this.events.emit('error', err),
      },
    });
  }

  /** The running arecord's process id, if one is running. */
  get childPid(): number | undefined {
    return this.child.pid;
  }

  start(): Promise<void> {
    return this.child.start();
  }

  close(): Promise<void> {
    return this.child.close();
  }

  stats(): AudioCaptureStats {
    return { frames: this.frames, restarts: this.child.restartCount, overruns: this.child.xrunCount };
  }

  private attach(stdout: Readable | null): void {
    stdout?.on('error', () => {}); // a broken pipe shows up as the helper's exit
    stdout?.on('data', (chunk: Buffer) => {
      const frames = this.cutter.push(chunk);
      const now = this.clock.now();
      // A chunk ends "now"; each frame in it completed earlier by the audio that followed it.
      let trailingBytes = this.cutter.pendingBytes + frames.length * this.cutter.frameBytes;
      for (const samples of frames) {
        trailingBytes -= this.cutter.frameBytes;
        this.frames++;
        this.events.emit('frame', { samples, capturedAtMs: now - trailingBytes / this.bytesPerMs });
      }
    });
  }
}

export class AlsaPlayback implements AudioPlayback {
  readonly sampleRateHz: AudioSampleRateHz;
  readonly samplesPerFrame: number;
  readonly events: TypedEmitter<AudioPlaybackEvents>;
  private readonly clock: Clock;
  private readonly queue: AudioPlaybackQueue<Buffer>;
  private readonly child: AlsaChild;
  private stdin: Writable | undefined;
  private needDrain = false;
  private wakeTimer: TimerHandle | undefined;
  private wakeAtMs = Number.POSITIVE_INFINITY;
  private closed = false;
  private frames = 0;
  private readonly drainTimeoutMs: number;

  constructor(opts: AlsaPlaybackOptions) {
    assertSampleRate(opts.sampleRateHz);
    this.sampleRateHz = opts.sampleRateHz;
    this.samplesPerFrame = samplesPerFrame(opts.sampleRateHz);
    this.events = new TypedEmitter<AudioPlaybackEvents>(opts.onListenerError);
    this.clock = opts.clock ?? new SystemClock();
    this.drainTimeoutMs = opts.drainTimeoutMs ?? 500;
    this.queue = new AudioPlaybackQueue({
      frameMs: AUDIO_FRAME_MS,
      ...(opts.maxQueuedMs === undefined ? {} : { maxQueuedMs: opts.maxQueuedMs }),
      ...(opts.leadMs === undefined ? {} : { leadMs: opts.leadMs }),
    });
    this.child = new AlsaChild({
      command: opts.command ?? 'aplay',
      args: alsaArgs(opts.pcm, opts.sampleRateHz, opts.periodTimeUs, opts.bufferTimeUs),
      stdio: 'playback',
      clock: this.clock,
      ...childOptions(opts),
      hooks: {
        onSpawn: (child, restart) => {
          this.attach(child.stdin);
          if (restart) this.events.emit('restarted', restart);
        },
        onGone: () => {
          this.stdin = undefined;
        },
        onXrun: (count) => this.events.emit('underrun', { count }),
        onError: (err) => this.events.emit('error', err),
      },
    });
  }

  get childPid(): number | undefined {
    return this.child.pid;
  }

  get bufferedMs(): number {
    return this.queue.bufferedMs(this.clock.now());
  }

  start(): Promise<void> {
    return this.child.start();
  }

  write(frame: Int16Array): void {
    checkFrame(frame, this.samplesPerFrame);
    if (this.closed) return;
    this.queue.push(pcmToBytes(frame));
    this.pump();
  }

  /**
   * Hands aplay what is still queued (at most the queue bound), ends its input so it plays that
   * and exits, and kills it if it has not within the drain timeout.
   */
  async close(): Promise<void> {
    if (this.closed) return this.child.close(); // the close already under way
    this.closed = true;
    this.clock.cancel(this.wakeTimer);
    this.wakeTimer = undefined;
    const stdin = this.stdin;
    if (stdin && !this.needDrain) {
      for (const bytes of this.queue.drain()) {
        stdin.write(bytes);
        this.frames++;
      }
    }
    stdin?.end();
    await this.child.close(stdin ? this.drainTimeoutMs : 0);
  }

  stats(): AudioPlaybackStats {
    return { frames: this.frames, dropped: this.queue.dropped, restarts: this.child.restartCount, underruns: this.child.xrunCount };
  }

  private attach(stdin: Writable | null): void {
    if (!stdin) return;
    stdin.on('error', () => {}); // EPIPE when aplay dies: its exit is what we act on
    this.stdin = stdin;
    this.needDrain = false;
    this.queue.resetDevice();
    this.pump();
  }

  private pump(): void {
    const stdin = this.stdin;
    if (this.closed || !stdin || this.needDrain) return;
    const now = this.clock.now();
    let ok = true;
    for (const bytes of this.queue.take(now)) {
      ok = stdin.write(bytes);
      this.frames++;
    }
    if (!ok) {
      // The pipe is full: aplay is not keeping up. Frames wait (bounded) in the queue.
      this.needDrain = true;
      stdin.once('drain', () => {
        this.needDrain = false;
        this.pump();
      });
      return;
    }
    const wakeAt = this.queue.wakeAtMs(now);
    if (wakeAt !== undefined && wakeAt < this.wakeAtMs) {
      this.clock.cancel(this.wakeTimer);
      this.wakeAtMs = wakeAt;
      this.wakeTimer = this.clock.setTimer(wakeAt - now, () => {
        this.wakeTimer = undefined;
        this.wakeAtMs = Number.POSITIVE_INFINITY;
        this.pump();
      });
    }
  }
}

// The audio device contract every backend implements (ALSA, WAV file, tone, null): mono
// signed 16-bit PCM at 8 or 16 kHz, moved in 10 ms frames. audio-device.ts re-exports these
// and holds the factories; the backends import only this file, so there is no import cycle.
import { CodedError, type TypedEmitter } from '../util/index.js';

export type AudioSampleRateHz = 8000 | 16000;

export const AUDIO_SAMPLE_RATES_HZ: readonly AudioSampleRateHz[] = [8000, 16000];
export const AUDIO_FRAME_MS = 10;
export const AUDIO_BYTES_PER_SAMPLE = 2;

/** Samples in one 10 ms frame: 80 at 8 kHz, 160 at 16 kHz. */
export function samplesPerFrame(sampleRateHz: AudioSampleRateHz): number {
  return (sampleRateHz * AUDIO_FRAME_MS) / 1000;
}

export function assertSampleRate(sampleRateHz: number): asserts sampleRateHz is AudioSampleRateHz {
  if (sampleRateHz !== 8000 && sampleRateHz !== 16000) {
    throw new RangeError(`sampleRateHz must be 8000 or 16000, got ${sampleRateHz}`);
  }
}

export type AudioDeviceErrorCode =
  /** The helper program could not be started (not installed, not executable). */
  | 'spawn-failed'
  /** The helper program exited while the device was running; a restart follows unless it gave up. */
  | 'child-exited'
  /** Too many consecutive failures: the device stopped retrying. */
  | 'gave-up'
  /** Reading or writing the device or file failed. */
  | 'io'
  /** A frame of the wrong length was written. */
  | 'bad-frame'
  /** The WAV output reached the 4 GiB limit of its header. */
  | 'file-full'
  /** start() after close(), or twice. */
  | 'bad-state';

export class AudioDeviceError extends CodedError<AudioDeviceErrorCode> {}

export type CapturedFrame = {
  /** One 10 ms frame; the receiver may keep it (each frame is a fresh array). */
  readonly samples: Int16Array;
  /** Clock time at which the frame's last sample was captured (estimated for ALSA). */
  readonly capturedAtMs: number;
};

export type AudioRestart = {
  /** Restarts of this device so far, this one included. */
  readonly restarts: number;
  /** What ended the previous helper process: an exit status, a signal or an xrun storm. */
  readonly reason: string;
  /** The back-off waited before this restart. */
  readonly afterMs: number;
};

export type AudioCaptureEvents = {
  frame: CapturedFrame;
  error: AudioDeviceError;
  restarted: AudioRestart;
  /** The device lost samples (ALSA overrun); `count` is the total so far. */
  overrun: { readonly count: number };
  /** A file source reached its end and does not loop; no more frames follow. */
  ended: { readonly frames: number };
};

export type AudioPlaybackEvents = {
  error: AudioDeviceError;
  restarted: AudioRestart;
  /** The device ran dry (ALSA underrun); `count` is the total so far. */
  underrun: { readonly count: number };
};

export type AudioCaptureStats = {
  readonly frames: number;
  readonly restarts: number;
  readonly overruns: number;
};

export type AudioPlaybackStats = {
  /** Frames handed to the device (or file). */
  readonly frames: number;
  /** Frames dropped because more than the buffer limit was waiting. */
  readonly dropped: number;
  readonly restarts: number;
  readonly underruns: number;
};

export interface AudioCapture {
  readonly sampleRateHz: AudioSampleRateHz;
  readonly samplesPerFrame: number;
  readonly events: TypedEmitter<AudioCaptureEvents>;
  /** Begins delivering 'frame' events; rejects if the device cannot be opened at all. */
  start(): Promise<void>;
  /** Stops the device and releases everything it owns; resolves once that is done. Idempotent. */
  close(): Promise<void>;
  stats(): AudioCaptureStats;
  /**
   * A capture without a clock of its own (tone, null, file) may be paced by its consumer, which
   * saves a timer: it stops the capture's own pacing for good, and the function it returns
   * emits `frames` frames at once, the last captured at `nowMs` (none before start() has
   * finished or after close()). A capture with a device clock (ALSA) has no such method.
   */
  consumerPaced?(): (frames: number, nowMs: number) => void;
}

export interface AudioPlayback {
  readonly sampleRateHz: AudioSampleRateHz;
  readonly samplesPerFrame: number;
  readonly events: TypedEmitter<AudioPlaybackEvents>;
  start(): Promise<void>;
  /** Queues one 10 ms frame (copied). Beyond the buffer limit the oldest waiting frames are dropped. */
  write(frame: Int16Array): void;
  /** Audio written but (by estimate) not yet played, in milliseconds. */
  readonly bufferedMs: number;
  close(): Promise<void>;
  stats(): AudioPlaybackStats;
}

export function checkFrame(frame: Int16Array, expectedSamples: number): void {
  if (frame.length !== expectedSamples) {
    throw new AudioDeviceError('bad-frame', `a frame must hold ${expectedSamples} samples (10 ms), got ${frame.length}`);
  }
}

// The file: backend. Capture decodes a 16-bit mono PCM WAV file at the device's rate (no
// resampling) and plays it paced by the clock, once or looping. Playback streams frames into
// a WAV file whose header sizes are written at open as zero and patched on close, in batches
// of `batchMs`: one write per frame would cost a thread-pool round trip and an event-loop
// wake-up every 10 ms, more CPU than the rest of the call.
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { TypedEmitter, errorMessage, type Clock } from '../util/index.js';
import { AudioPlaybackQueue } from './audio-playback-queue.js';
import { pcmToBytes } from './audio-frame-cutter.js';
import { PacedCapture, samplesSource } from './audio-synthetic.js';
import {
  AUDIO_FRAME_MS, AudioDeviceError, assertSampleRate, checkFrame, samplesPerFrame,
  type AudioPlayback, type AudioPlaybackEvents, type AudioPlaybackStats, type AudioSampleRateHz,
} from './audio-types.js';
import { WAV_DEFAULT_MAX_FILE_BYTES, WAV_HEADER_BYTES, WAV_MAX_DATA_BYTES, WavError, decodeWav, encodeWavHeader } from './audio-wav.js';

export type WavFileCaptureOptions = {
  readonly path: string;
  readonly sampleRateHz: AudioSampleRateHz;
  /** Start again from the beginning at the end (default false: emit 'ended'). */
  readonly loop?: boolean;
  readonly maxFileBytes?: number;
  readonly clock?: Clock;
  readonly onListenerError?: (err: unknown, event: string) => void;
};

/** A capture reading `path`; start() rejects with a WavError if the file is not usable. */
export function openWavFileCapture(opts: WavFileCaptureOptions): PacedCapture {
  const maxBytes = opts.maxFileBytes ?? WAV_DEFAULT_MAX_FILE_BYTES;
  return new PacedCapture({
    sampleRateHz: opts.sampleRateHz,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.onListenerError ? { onListenerError: opts.onListenerError } : {}),
    open: async () => {
      const size = (await stat(opts.path)).size;
      if (size > maxBytes) throw new WavError('too-large', `${opts.path}: ${size} bytes, over the limit of ${maxBytes}`);
      let wav;
      try {
        wav = decodeWav(await readFile(opts.path), maxBytes);
      } catch (err) {
        if (err instanceof WavError) throw new WavError(err.code, `${opts.path}: ${err.message}`, { cause: err });
        throw err;
      }
      if (wav.sampleRateHz !== opts.sampleRateHz) {
        throw new WavError(
          'unsupported-format',
          `${opts.path}: recorded at ${wav.sampleRateHz} Hz but the device runs at ${opts.sampleRateHz} Hz (resampling is not supported)`,
        );
      }
      return samplesSource(wav.samples, opts.loop ?? false);
    },
  });
}

export type WavFilePlaybackOptions = {
  readonly path: string;
  readonly sampleRateHz: AudioSampleRateHz;
  /** Frames waiting for the disk beyond this are dropped, oldest first. Default 200 ms. */
  readonly maxQueuedMs?: number;
  /** Frames are written once this much has gathered (and the rest on close). Default 60 ms. */
  readonly batchMs?: number;
  readonly onListenerError?: (err: unknown, event: string) => void;
};

export const WAV_FILE_DEFAULT_BATCH_MS = 60;

export class WavFilePlayback implements AudioPlayback {
  readonly sampleRateHz: AudioSampleRateHz;
  readonly samplesPerFrame: number;
  readonly events: TypedEmitter<AudioPlaybackEvents>;
  private readonly path: string;
  private readonly queue: AudioPlaybackQueue<Buffer>;
  private readonly batchFrames: number;
  private state: 'idle' | 'starting' | 'running' | 'failed' | 'closed' = 'idle';
  private file: FileHandle | undefined;
  private dataBytes = 0;
  private frames = 0;
  private inFlightFrames = 0;
  private writing: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(opts: WavFilePlaybackOptions) {
    assertSampleRate(opts.sampleRateHz);
    this.sampleRateHz = opts.sampleRateHz;
    this.samplesPerFrame = samplesPerFrame(opts.sampleRateHz);
    this.events = new TypedEmitter<AudioPlaybackEvents>(opts.onListenerError);
    this.path = opts.path;
    this.queue = new AudioPlaybackQueue({ frameMs: AUDIO_FRAME_MS, ...(opts.maxQueuedMs === undefined ? {} : { maxQueuedMs: opts.maxQueuedMs }) });
    this.batchFrames = Math.max(1, Math.round((opts.batchMs ?? WAV_FILE_DEFAULT_BATCH_MS) / AUDIO_FRAME_MS));
  }

  get bufferedMs(): number {
    return (this.queue.queuedFrames + this.inFlightFrames) * AUDIO_FRAME_MS;
  }

  async start(): Promise<void> {
    if (this.state !== 'idle') throw new AudioDeviceError('bad-state', `start() on a playback that is ${this.state}`);
    this.state = 'starting';
    const file = await open(this.path, 'w');
    if (this.state !== 'starting') {
      await file.close();
      return;
    }
    this.file = file;
    try {
      await file.write(encodeWavHeader(this.sampleRateHz, 0), 0, WAV_HEADER_BYTES, 0);
    } catch (err) {
      this.state = 'failed';
      throw new AudioDeviceError('io', `${this.path}: ${errorMessage(err)}`, { cause: err });
    }
    if (this.state !== 'starting') return; // closed meanwhile: close() owns the handle now
    this.state = 'running';
    this.pump();
  }

  write(frame: Int16Array): void {
    checkFrame(frame, this.samplesPerFrame);
    if (this.state === 'closed' || this.state === 'failed') return;
    this.queue.push(pcmToBytes(frame));
    this.pump();
  }

  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  stats(): AudioPlaybackStats {
    return { frames: this.frames, dropped: this.queue.dropped, restarts: 0, underruns: 0 };
  }

  private pump(): void {
    if (this.writing || this.state !== 'running' || this.queue.queuedFrames < this.batchFrames) return;
    this.writing = this.writeQueued().finally(() => {
      this.writing = undefined;
      if (this.queue.queuedFrames > 0) this.pump();
    });
  }

  private async writeQueued(): Promise<void> {
    const file = this.file;
    const batch = this.queue.drain();
    if (!file || batch.length === 0) return;
    const bytes = Buffer.concat(batch);
    if (this.dataBytes + bytes.length > WAV_MAX_DATA_BYTES) {
      this.state = 'failed';
      this.events.emit('error', new AudioDeviceError('file-full', `${this.path}: a WAV file cannot hold more than 4 GiB of samples`));
      return;
    }
    this.inFlightFrames = batch.length;
    try {
      await file.write(bytes, 0, bytes.length, WAV_HEADER_BYTES + this.dataBytes);
      this.dataBytes += bytes.length;
      this.frames += batch.length;
    } catch (err) {
      this.state = 'failed';
      this.events.emit('error', new AudioDeviceError('io', `${this.path}: ${errorMessage(err)}`, { cause: err }));
    } finally {
      this.inFlightFrames = 0;
    }
  }

  private async finish(): Promise<void> {
    const wasWriting = this.state === 'running';
    while (this.writing) await this.writing;
    if (wasWriting && this.queue.queuedFrames > 0) await this.writeQueued();
    this.state = 'closed';
    const file = this.file;
    this.file = undefined;
    if (!file) return;
    try {
      await file.write(encodeWavHeader(this.sampleRateHz, this.dataBytes), 0, WAV_HEADER_BYTES, 0);
    } finally {
      await file.close();
    }
  }
}

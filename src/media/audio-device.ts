// The audio device layer's entry: one capture and one playback interface (audio-types.ts),
// and factories that turn a board spec string (audio-spec.ts) into the backend it names.
// Factories only construct: nothing runs until start(), and close() releases everything.
import type { Clock } from '../util/index.js';
import { AlsaCapture, AlsaPlayback, type AlsaPlaybackOptions } from './audio-alsa.js';
import { WavFilePlayback, openWavFileCapture } from './audio-file.js';
import { AudioSpecError, parseAudioSpec } from './audio-spec.js';
import { NullPlayback, PacedCapture, silenceSource, toneSource } from './audio-synthetic.js';
import { assertSampleRate, type AudioCapture, type AudioPlayback, type AudioSampleRateHz } from './audio-types.js';

export {
  AUDIO_FRAME_MS,
  AUDIO_SAMPLE_RATES_HZ,
  AudioDeviceError,
  samplesPerFrame,
  type AudioCapture,
  type AudioCaptureEvents,
  type AudioCaptureStats,
  type AudioDeviceErrorCode,
  type AudioPlayback,
  type AudioPlaybackEvents,
  type AudioPlaybackStats,
  type AudioRestart,
  type AudioSampleRateHz,
  type CapturedFrame,
} from './audio-types.js';

/** Settings for the ALSA backend that the spec string does not carry. */
export type AlsaBackendOptions = Omit<AlsaPlaybackOptions, 'pcm' | 'sampleRateHz' | 'clock' | 'onListenerError' | 'maxQueuedMs'>;

export type AudioDeviceOptions = {
  readonly sampleRateHz: AudioSampleRateHz;
  /** Paces tone, null and file capture; times ALSA restarts. Default: the system clock. */
  readonly clock?: Clock;
  readonly onListenerError?: (err: unknown, event: string) => void;
  /** file: capture starts over at the end instead of emitting 'ended'. Default false. */
  readonly loop?: boolean;
  /** tone: capture peak in 16-bit units; default 8000. */
  readonly toneAmplitude?: number;
  /** file: capture refuses larger files; default 64 MiB. */
  readonly maxFileBytes?: number;
  /** Playback: frames waiting beyond this are dropped, oldest first. Default 200 ms. */
  readonly maxQueuedMs?: number;
  readonly alsa?: AlsaBackendOptions;
};

/** A capture device for `spec` (alsa:<pcm>, file:<path.wav>, tone:<Hz>, null); throws AudioSpecError. */
export function openCapture(spec: string, options: AudioDeviceOptions): AudioCapture {
  assertSampleRate(options.sampleRateHz);
  const parsed = parseAudioSpec(spec, 'capture');
  const common = commonOptions(options);
  switch (parsed.kind) {
    case 'alsa':
      return new AlsaCapture({ ...options.alsa, ...common, pcm: parsed.pcm });
    case 'file':
      return openWavFileCapture({
        ...common,
        path: parsed.path,
        ...(options.loop === undefined ? {} : { loop: options.loop }),
        ...(options.maxFileBytes === undefined ? {} : { maxFileBytes: options.maxFileBytes }),
      });
    case 'tone': {
      let source;
      try {
        source = toneSource(parsed.frequencyHz, options.sampleRateHz, options.toneAmplitude);
      } catch (err) {
        throw new AudioSpecError('bad-frequency', `"${spec}": ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      return new PacedCapture({ ...common, open: () => source });
    }
    case 'null':
      return new PacedCapture({ ...common, open: silenceSource });
  }
}

/** A playback device for `spec` (alsa:<pcm>, file:<path.wav>, null); throws AudioSpecError. */
export function openPlayback(spec: string, options: AudioDeviceOptions): AudioPlayback {
  assertSampleRate(options.sampleRateHz);
  const parsed = parseAudioSpec(spec, 'playback');
  const common = commonOptions(options);
  const maxQueued = options.maxQueuedMs === undefined ? {} : { maxQueuedMs: options.maxQueuedMs };
  switch (parsed.kind) {
    case 'alsa':
      return new AlsaPlayback({ ...options.alsa, ...common, ...maxQueued, pcm: parsed.pcm });
    case 'file':
      return new WavFilePlayback({
        sampleRateHz: common.sampleRateHz,
        path: parsed.path,
        ...(common.onListenerError ? { onListenerError: common.onListenerError } : {}),
        ...maxQueued,
      });
    case 'tone':
      throw new AudioSpecError('not-for-playback', `"${spec}": a tone is a capture source`);
    case 'null':
      return new NullPlayback(common);
  }
}

function commonOptions(options: AudioDeviceOptions): {
  sampleRateHz: AudioSampleRateHz;
  clock?: Clock;
  onListenerError?: (err: unknown, event: string) => void;
} {
  return {
    sampleRateHz: options.sampleRateHz,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.onListenerError ? { onListenerError: options.onListenerError } : {}),
  };
}

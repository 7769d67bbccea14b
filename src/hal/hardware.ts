// The phone's hardware as the layers above see it. Real and sim drivers implement the same interfaces.
import type { TypedEmitter } from '../util/typed-emitter.js';

export type LedState = 'off' | 'on' | 'blink-slow' | 'blink-fast';

export type HardwareEvents = {
  hook: { offHook: boolean };
  key: { key: string };
  /** A driver failed; the phone keeps going without it. */
  fault: { part: string; message: string };
};

export interface Hardware {
  readonly events: TypedEmitter<HardwareEvents>;
  readonly offHook: boolean;
  setRinger(on: boolean): void;
  setLed(name: string, state: LedState): void;
  /** Display lines; boards without a display ignore it. */
  showText(lines: readonly string[]): void;
  /** Which tone the phone is playing (the media layer plays it); shown in the sim state. */
  setTone(tone: string | null): void;
  readonly ledNames: readonly string[];
  close(): Promise<void>;
}

/** What GET /api/sim/state returns. */
export interface HardwareState {
  offHook: boolean;
  ringing: boolean;
  leds: Record<string, LedState>;
  display: string[];
  tone: string | null;
}

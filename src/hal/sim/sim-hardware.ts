// The sim board: hardware state in memory, driven over the HTTP API by tests and the web page.
import { TypedEmitter } from '../../util/typed-emitter.js';
import type { BoardDefinition } from '../board.js';
import type { Hardware, HardwareEvents, HardwareState, LedState } from '../hardware.js';

export const SIM_KEYS = /^[0-9*#]$/;
const MAX_KEYS_PER_PRESS = 64;

export class SimHardware implements Hardware {
  readonly events: TypedEmitter<HardwareEvents>;
  private hookOff = false;
  private ringing = false;
  private readonly leds = new Map<string, LedState>();
  private display: string[];
  private tone: string | null = null;

  constructor(private readonly board: BoardDefinition, onListenerError?: (err: unknown, event: string) => void) {
    this.events = new TypedEmitter<HardwareEvents>(onListenerError);
    for (const name of Object.keys(board.leds)) this.leds.set(name, 'off');
    this.display = Array.from({ length: board.display.rows }, () => '');
  }

  get offHook(): boolean {
    return this.hookOff;
  }

  get ledNames(): readonly string[] {
    return [...this.leds.keys()];
  }

  /** The handset is lifted or put down (sim input). */
  setHook(offHook: boolean): void {
    if (offHook === this.hookOff) return;
    this.hookOff = offHook;
    this.events.emit('hook', { offHook });
  }

  /** Keys pressed on the keypad (sim input): "0"-"9", "*", "#". */
  pressKeys(keys: string): void {
    if (keys.length === 0 || keys.length > MAX_KEYS_PER_PRESS) throw new RangeError(`press 1 to ${MAX_KEYS_PER_PRESS} keys`);
    for (const k of keys) if (!SIM_KEYS.test(k)) throw new RangeError(`unknown key ${JSON.stringify(k)}: keys are 0-9, * and #`);
    for (const key of keys) this.events.emit('key', { key });
  }

  setRinger(on: boolean): void {
    this.ringing = on;
  }

  setLed(name: string, state: LedState): void {
    if (this.leds.has(name)) this.leds.set(name, state);
  }

  showText(lines: readonly string[]): void {
    const { rows, columns } = this.board.display;
    this.display = Array.from({ length: rows }, (_, i) => (lines[i] ?? '').slice(0, columns));
  }

  setTone(tone: string | null): void {
    this.tone = tone;
  }

  state(): HardwareState {
    return {
      offHook: this.hookOff,
      ringing: this.ringing,
      leds: Object.fromEntries(this.leds),
      display: [...this.display],
      tone: this.tone,
    };
  }

  async close(): Promise<void> {
    this.events.removeAll();
  }
}

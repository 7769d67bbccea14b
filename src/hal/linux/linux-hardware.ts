// Real hardware on a Raspberry Pi: input devices for hook and keypad, gpio-leds for ringer and LEDs.
// A missing or failing device is reported as a fault; the phone keeps working with what is left.
import { createReadStream, writeFileSync, type ReadStream } from 'node:fs';
import { TypedEmitter } from '../../util/typed-emitter.js';
import type { BoardDefinition, InputDriver, OutputDriver } from '../board.js';
import type { Hardware, HardwareEvents, LedState } from '../hardware.js';
import { EV_KEY, InputEventDecoder } from './input-events.js';

const BLINK_MS: Record<'blink-slow' | 'blink-fast', number> = { 'blink-slow': 500, 'blink-fast': 150 };

export interface LinuxHardwareOptions {
  /** Root of /sys/class/leds (tests point it at a temporary directory). */
  readonly ledsRoot?: string;
}

export class LinuxHardware implements Hardware {
  readonly events: TypedEmitter<HardwareEvents>;
  private hookOff = false;
  private readonly streams: ReadStream[] = [];
  private readonly ledsRoot: string;

  constructor(private readonly board: BoardDefinition, options: LinuxHardwareOptions = {}, onListenerError?: (err: unknown, event: string) => void) {
    this.events = new TypedEmitter<HardwareEvents>(onListenerError);
    this.ledsRoot = options.ledsRoot ?? '/sys/class/leds';
    this.openInput('hook', board.hook);
    if (board.keypad.driver === 'input-event' && board.keypad.device !== (board.hook.driver === 'input-event' ? board.hook.device : '')) {
      this.openInput('keypad', board.keypad);
    }
  }

  get offHook(): boolean {
    return this.hookOff;
  }

  get ledNames(): readonly string[] {
    return Object.keys(this.board.leds);
  }

  private openInput(part: string, drv: InputDriver): void {
    if (drv.driver !== 'input-event') return;
    const stream = createReadStream(drv.device, { highWaterMark: 24 * 16 });
    const decoder = new InputEventDecoder();
    stream.on('data', (chunk) => {
      for (const ev of decoder.push(chunk as Buffer)) {
        if (ev.type !== EV_KEY) continue;
        const key = drv.keymap[String(ev.code)];
        if (!key) continue;
        if (key === 'hook') {
          // value 1 = pressed (off hook), 0 = released, 2 = autorepeat
          if (ev.value === 2) continue;
          const offHook = ev.value === 1;
          if (offHook !== this.hookOff) {
            this.hookOff = offHook;
            this.events.emit('hook', { offHook });
          }
        } else if (ev.value === 1) {
          this.events.emit('key', { key });
        }
      }
    });
    stream.on('error', (err) => this.events.emit('fault', { part, message: `${drv.device}: ${err.message}` }));
    this.streams.push(stream);
  }

  private writeLed(part: string, drv: OutputDriver, state: LedState): void {
    if (drv.driver !== 'sysfs-led') return;
    const dir = `${this.ledsRoot}/${drv.name}`;
    try {
      if (state === 'blink-slow' || state === 'blink-fast') {
        writeFileSync(`${dir}/trigger`, 'timer');
        writeFileSync(`${dir}/delay_on`, String(BLINK_MS[state]));
        writeFileSync(`${dir}/delay_off`, String(BLINK_MS[state]));
      } else {
        writeFileSync(`${dir}/trigger`, 'none');
        writeFileSync(`${dir}/brightness`, state === 'on' ? '1' : '0');
      }
    } catch (err) {
      this.events.emit('fault', { part, message: `${dir}: ${(err as Error).message}` });
    }
  }

  setRinger(on: boolean): void {
    this.writeLed('ringer', this.board.ringer, on ? 'on' : 'off');
  }

  setLed(name: string, state: LedState): void {
    const drv = this.board.leds[name];
    if (drv) this.writeLed(`led ${name}`, drv, state);
  }

  showText(): void {
    // The pi-deskphone board has no display; boards with one add a driver here.
  }

  setTone(): void {
    // Tones are audio, played by the media layer; nothing to drive here.
  }

  async close(): Promise<void> {
    for (const s of this.streams) s.destroy();
    this.streams.length = 0;
    this.events.removeAll();
  }
}

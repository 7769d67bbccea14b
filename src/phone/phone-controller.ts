// Drives the phone state machine from hardware events and carries out its actions.
import type { Hardware } from '../hal/index.js';
import type { Registry } from '../registry/index.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { DialPlan } from './dial-plan.js';
import { PhoneStateMachine, type PhoneAction, type PhoneEvent } from './phone-state.js';

/** What the phone asks of the call layer; the RTC client implements it. */
export interface CallPlacer {
  /** Starts a call; rejects with a reason the display can show. */
  place(number: string): Promise<void>;
}

export interface PhoneLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export class PhoneController {
  private readonly machine: PhoneStateMachine;
  private interDigitTimer: TimerHandle | undefined;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly hw: Hardware,
    private readonly registry: Registry,
    private readonly clock: Clock,
    private readonly log: PhoneLogger,
    private readonly placer: CallPlacer | undefined,
  ) {
    this.machine = new PhoneStateMachine(new DialPlan(registry.getString('phone.dialPlan')), () => 'Ready');
    this.unsubscribe.push(
      hw.events.on('hook', ({ offHook }) => this.feed({ kind: 'hook', offHook })),
      hw.events.on('key', ({ key }) => this.feed({ kind: 'key', key })),
      registry.subscribe(['phone.dialPlan'], () => {
        try {
          this.machine.setDialPlan(new DialPlan(registry.getString('phone.dialPlan')));
        } catch (err) {
          this.log.warn({ err: (err as Error).message }, 'dial plan not applied');
        }
      }),
    );
    this.apply(this.machine.start());
  }

  get state(): string {
    return this.machine.state;
  }

  private feed(ev: PhoneEvent): void {
    const before = this.machine.state;
    this.apply(this.machine.handle(ev));
    if (this.machine.state !== before) this.log.info({ from: before, to: this.machine.state }, 'phone state');
  }

  private apply(actions: PhoneAction[]): void {
    for (const a of actions) {
      switch (a.kind) {
        case 'tone':
          this.hw.setTone(a.tone);
          break;
        case 'display':
          this.hw.showText(a.lines);
          break;
        case 'led':
          this.hw.setLed(a.name, a.state);
          break;
        case 'startInterDigitTimer':
          this.clock.cancel(this.interDigitTimer);
          this.interDigitTimer = this.clock.setTimer(this.registry.getNumber('phone.interDigitTimeoutS') * 1000, () => {
            this.interDigitTimer = undefined;
            this.feed({ kind: 'interDigitTimeout' });
          });
          break;
        case 'cancelInterDigitTimer':
          this.clock.cancel(this.interDigitTimer);
          this.interDigitTimer = undefined;
          break;
        case 'place':
          this.placeCall(a.number);
          break;
      }
    }
  }

  private placeCall(number: string): void {
    if (!this.placer) {
      this.feed({ kind: 'placeFailed', reason: 'No SIP account' });
      return;
    }
    this.placer.place(number).catch((err: unknown) => {
      this.feed({ kind: 'placeFailed', reason: err instanceof Error ? err.message.slice(0, 20) : 'Call failed' });
    });
  }

  close(): void {
    this.clock.cancel(this.interDigitTimer);
    for (const u of this.unsubscribe) u();
  }
}

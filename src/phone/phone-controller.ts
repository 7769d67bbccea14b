// Drives the phone state machine from hardware events and carries out its actions.
import type { Hardware } from '../hal/index.js';
import type { Registry } from '../registry/index.js';
import type { EndReason, RtcEvents } from '../rtc/index.js';
import type { TypedEmitter } from '../util/index.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { DialPlan } from './dial-plan.js';
import { PhoneStateMachine, type PhoneAction, type PhoneEvent } from './phone-state.js';

/** What the phone needs of the RTC client (which implements it; tests can too). */
export interface PhoneCalls {
  readonly events: TypedEmitter<RtcEvents>;
  /** Starts a call; throws with a reason the display can show. */
  call(target: string): { readonly id: string };
  answer(id: string): void;
  hangup(id: string): void;
}

/** What the display says when a call ends. */
const END_TEXT: Record<EndReason, string> = {
  hangup: 'Call ended', 'remote-hangup': 'Call ended', cancelled: 'Missed call', busy: 'Busy', declined: 'Declined',
  'not-found': 'Not found', unavailable: 'Unavailable', 'no-answer': 'No answer', rejected: 'Rejected', failed: 'Call failed',
  'media-failed': 'No common codec', transferred: 'Transferred', timeout: 'Call lost',
};

export interface PhoneLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export class PhoneController {
  private readonly machine: PhoneStateMachine;
  private interDigitTimer: TimerHandle | undefined;
  private readonly unsubscribe: Array<() => void> = [];
  /** The call the handset is on (or ringing for). */
  private current: string | undefined;

  constructor(
    private readonly hw: Hardware,
    private readonly registry: Registry,
    private readonly clock: Clock,
    private readonly log: PhoneLogger,
    private readonly calls: PhoneCalls | undefined,
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
    if (calls) {
      this.unsubscribe.push(
        calls.events.on('incomingCall', (e) => {
          if (e.waiting || this.machine.state !== 'idle') return; // call waiting: the far end hears ringing; no second line yet
          this.current = e.session;
          this.feed({ kind: 'incoming', from: e.displayName || e.from.replace(/^sips?:/, '') });
        }),
        calls.events.on('sessionStateChanged', (e) => {
          if (e.session !== this.current) return;
          if (e.state === 'early') this.feed({ kind: 'call', state: 'early' });
          else if (e.state === 'connected') this.feed({ kind: 'call', state: 'connected' });
          else if (e.state === 'ended') {
            this.current = undefined;
            if (e.endReason === 'cancelled' && this.machine.state === 'ringing') this.feed({ kind: 'incomingGone' });
            else this.feed({ kind: 'call', state: 'ended', text: e.endReason ? END_TEXT[e.endReason] : 'Call ended' });
          }
        }),
      );
    }
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
        case 'ringer':
          this.hw.setRinger(a.on);
          break;
        case 'answer':
          if (this.current) this.guard(() => this.calls?.answer(this.current as string), 'answer');
          break;
        case 'hangup':
          if (this.current) this.guard(() => this.calls?.hangup(this.current as string), 'hang up');
          this.current = undefined;
          break;
      }
    }
  }

  private placeCall(number: string): void {
    if (!this.calls) {
      this.feed({ kind: 'placeFailed', reason: 'No SIP account' });
      return;
    }
    try {
      this.current = this.calls.call(number).id;
    } catch (err) {
      this.feed({ kind: 'placeFailed', reason: err instanceof Error && /account/.test(err.message) ? 'No SIP account' : 'Call failed' });
    }
  }

  private guard(fn: () => void, what: string): void {
    try {
      fn();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, `could not ${what}`);
    }
  }

  close(): void {
    this.clock.cancel(this.interDigitTimer);
    for (const u of this.unsubscribe) u();
  }
}

// The phone's state machine: hook, dial tone, digit collection, and the call as the person at
// the handset lives it (ringback, talking, ringing, the far end hanging up).
// Pure: events in, actions out; the controller carries the actions out (STYLE.md).
import { DialPlan, MAX_DIGITS } from './dial-plan.js';

export type PhoneState = 'idle' | 'dialTone' | 'collecting' | 'placing' | 'ringback' | 'talking' | 'ringing' | 'ended' | 'unavailable';

export type PhoneEvent =
  | { kind: 'hook'; offHook: boolean }
  | { kind: 'key'; key: string }
  | { kind: 'interDigitTimeout' }
  | { kind: 'placeFailed'; reason: string }
  /** The call we placed or answered moved on (from the RTC client's session events). */
  | { kind: 'call'; state: 'early' | 'connected' | 'ended'; text?: string }
  | { kind: 'incoming'; from: string }
  /** The ringing call went away before we answered (the caller cancelled). */
  | { kind: 'incomingGone' };

export type PhoneAction =
  | { kind: 'tone'; tone: 'dial' | 'congestion' | 'ringback' | 'busy' | null }
  | { kind: 'ringer'; on: boolean }
  | { kind: 'answer' }
  | { kind: 'hangup' }
  | { kind: 'display'; lines: string[] }
  | { kind: 'led'; name: string; state: 'off' | 'on' | 'blink-fast' }
  | { kind: 'startInterDigitTimer' }
  | { kind: 'cancelInterDigitTimer' }
  | { kind: 'place'; number: string };

export class PhoneStateMachine {
  private stateNow: PhoneState = 'idle';
  private digits = '';

  constructor(private dialPlan: DialPlan, private readonly idleText: () => string) {}

  get state(): PhoneState {
    return this.stateNow;
  }

  get dialled(): string {
    return this.digits;
  }

  setDialPlan(plan: DialPlan): void {
    this.dialPlan = plan;
  }

  /** Actions that show the idle screen (at start). */
  start(): PhoneAction[] {
    return [{ kind: 'display', lines: [this.idleText(), ''] }, { kind: 'led', name: 'line', state: 'off' }];
  }

  handle(ev: PhoneEvent): PhoneAction[] {
    if (ev.kind === 'hook' && !ev.offHook) {
      const inCall = this.stateNow === 'placing' || this.stateNow === 'ringback' || this.stateNow === 'talking';
      return [...(inCall ? [{ kind: 'hangup' } as const] : []), ...this.goIdle()];
    }
    switch (this.stateNow) {
      case 'idle':
        if (ev.kind === 'hook' && ev.offHook) {
          this.stateNow = 'dialTone';
          this.digits = '';
          return [{ kind: 'tone', tone: 'dial' }, { kind: 'display', lines: ['Dial', ''] }, { kind: 'led', name: 'line', state: 'on' }];
        }
        if (ev.kind === 'incoming') {
          this.stateNow = 'ringing';
          return [{ kind: 'ringer', on: true }, { kind: 'display', lines: ['Call from', ev.from] }, { kind: 'led', name: 'line', state: 'blink-fast' }];
        }
        return [];
      case 'ringing':
        if (ev.kind === 'hook' && ev.offHook) {
          this.stateNow = 'talking';
          return [{ kind: 'ringer', on: false }, { kind: 'answer' }, { kind: 'led', name: 'line', state: 'on' }];
        }
        if (ev.kind === 'incomingGone' || (ev.kind === 'call' && ev.state === 'ended')) {
          this.stateNow = 'idle';
          return [{ kind: 'ringer', on: false }, { kind: 'led', name: 'line', state: 'off' }, { kind: 'display', lines: [this.idleText(), ev.kind === 'call' && ev.text ? ev.text : 'Missed call'] }];
        }
        return [];
      case 'dialTone':
      case 'collecting':
        if (ev.kind === 'key') return this.collect(ev.key);
        if (ev.kind === 'interDigitTimeout' && this.digits.length > 0) return this.place();
        return [];
      case 'placing':
      case 'ringback':
        if (ev.kind === 'placeFailed') return this.unavailable(ev.reason);
        if (ev.kind === 'call' && ev.state === 'early' && this.stateNow === 'placing') {
          this.stateNow = 'ringback';
          return [{ kind: 'tone', tone: 'ringback' }, { kind: 'display', lines: ['Ringing', this.digits] }];
        }
        if (ev.kind === 'call' && ev.state === 'connected') {
          this.stateNow = 'talking';
          return [{ kind: 'tone', tone: null }, { kind: 'display', lines: ['Connected', this.digits] }];
        }
        if (ev.kind === 'call' && ev.state === 'ended') return this.ended(ev.text ?? 'Call failed', 'busy');
        return [];
      case 'talking':
        if (ev.kind === 'call' && ev.state === 'ended') return this.ended(ev.text ?? 'Call ended', 'busy');
        return [];
      case 'ended':
      case 'unavailable':
        return [];
    }
  }

  private unavailable(reason: string): PhoneAction[] {
    this.stateNow = 'unavailable';
    return [{ kind: 'tone', tone: 'congestion' }, { kind: 'display', lines: [reason, 'Hang up'] }];
  }

  /** The far end hung up or the call failed: a busy tone until the handset goes down. */
  private ended(text: string, tone: 'busy'): PhoneAction[] {
    this.stateNow = 'ended';
    return [{ kind: 'tone', tone }, { kind: 'display', lines: [text, 'Hang up'] }];
  }

  private collect(key: string): PhoneAction[] {
    const first = this.stateNow === 'dialTone';
    this.stateNow = 'collecting';
    if (this.digits.length < MAX_DIGITS) this.digits += key;
    const actions: PhoneAction[] = first ? [{ kind: 'tone', tone: null }] : [];
    actions.push({ kind: 'display', lines: ['Dial', this.digits] });
    if (this.dialPlan.decide(this.digits) === 'dial') return [...actions, ...this.place()];
    actions.push({ kind: 'startInterDigitTimer' });
    return actions;
  }

  private place(): PhoneAction[] {
    this.stateNow = 'placing';
    const number = DialPlan.number(this.digits);
    return [{ kind: 'cancelInterDigitTimer' }, { kind: 'display', lines: ['Calling', number] }, { kind: 'place', number }];
  }

  private goIdle(): PhoneAction[] {
    const wasIdle = this.stateNow === 'idle' || this.stateNow === 'ringing';
    this.stateNow = 'idle';
    this.digits = '';
    if (wasIdle) return [];
    return [
      { kind: 'cancelInterDigitTimer' },
      { kind: 'tone', tone: null },
      { kind: 'led', name: 'line', state: 'off' },
      { kind: 'display', lines: [this.idleText(), ''] },
    ];
  }
}

// The phone's state machine while no call exists: hook, dial tone, digit collection.
// Pure: events in, actions out; the controller carries the actions out (STYLE.md).
import { DialPlan, MAX_DIGITS } from './dial-plan.js';

export type PhoneState = 'idle' | 'dialTone' | 'collecting' | 'placing' | 'unavailable';

export type PhoneEvent =
  | { kind: 'hook'; offHook: boolean }
  | { kind: 'key'; key: string }
  | { kind: 'interDigitTimeout' }
  | { kind: 'placeFailed'; reason: string };

export type PhoneAction =
  | { kind: 'tone'; tone: 'dial' | 'congestion' | null }
  | { kind: 'display'; lines: string[] }
  | { kind: 'led'; name: string; state: 'off' | 'on' }
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
    if (ev.kind === 'hook' && !ev.offHook) return this.goIdle();
    switch (this.stateNow) {
      case 'idle':
        if (ev.kind === 'hook' && ev.offHook) {
          this.stateNow = 'dialTone';
          this.digits = '';
          return [{ kind: 'tone', tone: 'dial' }, { kind: 'display', lines: ['Dial', ''] }, { kind: 'led', name: 'line', state: 'on' }];
        }
        return [];
      case 'dialTone':
      case 'collecting':
        if (ev.kind === 'key') return this.collect(ev.key);
        if (ev.kind === 'interDigitTimeout' && this.digits.length > 0) return this.place();
        return [];
      case 'placing':
        if (ev.kind === 'placeFailed') {
          this.stateNow = 'unavailable';
          return [{ kind: 'tone', tone: 'congestion' }, { kind: 'display', lines: [ev.reason, 'Hang up'] }];
        }
        return [];
      case 'unavailable':
        return [];
    }
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
    const wasIdle = this.stateNow === 'idle';
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

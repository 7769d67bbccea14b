// The dial plan decides when the digits typed so far form a number to call.
import { CodedError } from '../util/errors.js';

export const MAX_DIGITS = 32;

export class DialPlanError extends CodedError<'invalid-dial-plan'> {}

export type DialDecision = 'dial' | 'wait';

export class DialPlan {
  private readonly re: RegExp;

  constructor(pattern: string) {
    try {
      this.re = new RegExp(pattern);
    } catch (err) {
      throw new DialPlanError('invalid-dial-plan', `phone.dialPlan is not a valid regular expression: ${(err as Error).message}`);
    }
  }

  /** `#` always ends dialling; otherwise dial as soon as the digits match. */
  decide(digits: string): DialDecision {
    if (digits.length >= MAX_DIGITS) return 'dial';
    if (digits.endsWith('#') && digits.length > 1) return 'dial';
    return this.re.test(digits) ? 'dial' : 'wait';
  }

  /** The number to call: a trailing # is only the "dial now" key. */
  static number(digits: string): string {
    return digits.endsWith('#') ? digits.slice(0, -1) : digits;
  }
}

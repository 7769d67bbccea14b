// The shape of a registry key declaration. Every setting the phone has is declared once, in schema.ts.

export type ValueType =
  | 'boolean'
  | 'integer'
  | 'string'
  | 'enum'
  | 'sipUri'
  | 'hostPort'
  | 'ipAddress'
  | 'list';

export type SettingValue = boolean | number | string | readonly string[];

export interface KeySpec {
  /** Dotted camelCase name; `*` stands for an account id in `accounts.*.field`. */
  readonly key: string;
  readonly type: ValueType;
  readonly default: SettingValue;
  readonly description: string;
  readonly min?: number;
  readonly max?: number;
  /** Allowed values for `enum`, and for each item of a `list` when present. */
  readonly values?: readonly string[];
  /** Maximum length of a string value, or items of a list. */
  readonly maxLength?: number;
  /** Regular expression a string must match (checked after the type's own parsing). */
  readonly pattern?: RegExp;
  readonly patternHint?: string;
  readonly secret?: boolean;
  /** Changing it takes effect only after the daemon restarts. */
  readonly restart?: boolean;
  /** Names from the original RTC client registry that mean this key. */
  readonly aliases?: readonly string[];
  /** An empty string is allowed and means "not set" (servers, addresses). */
  readonly optional?: boolean;
}

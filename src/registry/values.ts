// Parsing and validation of setting values, from CLI text and from JSON (file, import, web).
import { isIP } from 'node:net';
import type { KeySpec, SettingValue } from './schema-types.js';

export type RegistryErrorCode =
  | 'unknown-key'
  | 'invalid-value'
  | 'invalid-file'
  | 'locked'
  | 'io';

/** The registry is the bottom layer (DESIGN.md): its error type stands alone, shaped like util's CodedError. */
export class RegistryError extends Error {
  constructor(readonly code: RegistryErrorCode, message: string, readonly key?: string) {
    super(message);
    this.name = 'RegistryError';
  }
}

const MAX_TEXT = 4096;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.?$/;
const SIP_URI = /^(sips?):(?:([^@\s<>"]+)@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?((?:;[A-Za-z0-9\-_.!~*'()%]+(?:=[A-Za-z0-9\-_.!~*'()%[\]/:&+$]+)?)*)$/;

/** Human description of what a key accepts, used in every error message. */
export function describeAllowed(spec: KeySpec): string {
  switch (spec.type) {
    case 'boolean':
      return 'true or false';
    case 'integer':
      return `an integer from ${spec.min ?? '-∞'} to ${spec.max ?? '∞'}`;
    case 'enum':
      return `one of ${(spec.values ?? []).join(', ')}`;
    case 'sipUri':
      return `a SIP URI such as sip:example.net or sip:203.0.113.20:5060${spec.optional ? ' (or empty)' : ''}`;
    case 'hostPort':
      return `host:port such as stun.example.net:3478${spec.optional ? ' (or empty)' : ''}`;
    case 'ipAddress':
      return `an IPv4 or IPv6 address${spec.optional ? ' (or empty)' : ''}`;
    case 'list':
      return `a comma-separated list${spec.values ? ` of ${spec.values.join(', ')}` : ''}${spec.maxLength ? `, at most ${spec.maxLength} items` : ''}`;
    case 'string': {
      const parts = [spec.patternHint ?? 'text'];
      if (spec.maxLength !== undefined) parts.push(`at most ${spec.maxLength} characters`);
      return parts.join(', ');
    }
  }
}

function invalid(key: string, value: unknown, spec: KeySpec, why?: string): RegistryError {
  const shown = spec.secret ? '(secret)' : JSON.stringify(value)?.slice(0, 200) ?? String(value);
  return new RegistryError(
    'invalid-value',
    `invalid value ${shown} for ${key}: ${why ? `${why}; ` : ''}expected ${describeAllowed(spec)}`,
    key,
  );
}

function validPort(text: string | undefined): boolean {
  if (text === undefined) return true;
  const n = Number(text);
  return /^\d{1,5}$/.test(text) && n >= 1 && n <= 65535;
}

export function isValidHostPort(text: string): boolean {
  let host: string;
  let port: string | undefined;
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(text);
  if (v6) {
    host = v6[1] ?? '';
    port = v6[2];
    if (isIP(host) !== 6) return false;
  } else {
    const i = text.lastIndexOf(':');
    if (i >= 0) {
      host = text.slice(0, i);
      port = text.slice(i + 1);
    } else {
      host = text;
    }
    if (isIP(host) === 0 && !HOSTNAME.test(host)) return false;
  }
  return validPort(port);
}

export function isValidSipUri(text: string): boolean {
  const m = SIP_URI.exec(text);
  if (!m) return false;
  const host = m[3] ?? '';
  if (host.startsWith('[')) {
    if (isIP(host.slice(1, -1)) !== 6) return false;
  } else if (isIP(host) === 0 && !HOSTNAME.test(host)) {
    return false;
  }
  return validPort(m[4]);
}

/** Checks a typed value (from JSON) against its key; returns the normalised value or throws. */
export function validateValue(spec: KeySpec, key: string, value: unknown): SettingValue {
  switch (spec.type) {
    case 'boolean':
      if (typeof value !== 'boolean') throw invalid(key, value, spec);
      return value;
    case 'integer': {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw invalid(key, value, spec);
      if (spec.min !== undefined && value < spec.min) throw invalid(key, value, spec, 'too small');
      if (spec.max !== undefined && value > spec.max) throw invalid(key, value, spec, 'too large');
      return value;
    }
    case 'enum':
      if (typeof value !== 'string' || !(spec.values ?? []).includes(value)) throw invalid(key, value, spec);
      return value;
    case 'list': {
      if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) throw invalid(key, value, spec);
      if (spec.maxLength !== undefined && value.length > spec.maxLength) throw invalid(key, value, spec, 'too many items');
      if (spec.values) {
        const bad = value.find((v) => !spec.values?.includes(v));
        if (bad !== undefined) throw invalid(key, value, spec, `unknown item ${JSON.stringify(bad)}`);
      }
      if (new Set(value).size !== value.length) throw invalid(key, value, spec, 'duplicate items');
      return Object.freeze([...value]);
    }
    case 'string':
    case 'sipUri':
    case 'hostPort':
    case 'ipAddress': {
      if (typeof value !== 'string') throw invalid(key, value, spec);
      if (value.length > (spec.maxLength ?? MAX_TEXT)) throw invalid(key, value, spec, 'too long');
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u001f\u007f]/.test(value)) throw invalid(key, value, spec, 'control characters are not allowed');
      if (value === '') {
        if (spec.type === 'string' && !spec.pattern) return value;
        if (spec.optional) return value;
        throw invalid(key, value, spec, 'must not be empty');
      }
      if (spec.type === 'sipUri' && !isValidSipUri(value)) throw invalid(key, value, spec);
      if (spec.type === 'hostPort' && !isValidHostPort(value)) throw invalid(key, value, spec);
      if (spec.type === 'ipAddress' && isIP(value) === 0) throw invalid(key, value, spec);
      if (spec.pattern && !spec.pattern.test(value)) throw invalid(key, value, spec);
      return value;
    }
  }
}

/** Parses a value typed on the command line (`registry set KEY TEXT`) by the key's type. */
export function parseText(spec: KeySpec, key: string, text: string): SettingValue {
  switch (spec.type) {
    case 'boolean':
      if (/^(true|on|yes|1)$/i.test(text)) return true;
      if (/^(false|off|no|0)$/i.test(text)) return false;
      throw invalid(key, text, spec);
    case 'integer':
      if (!/^-?\d{1,15}$/.test(text.trim())) throw invalid(key, text, spec);
      return validateValue(spec, key, Number(text.trim()));
    case 'list':
      return validateValue(
        spec,
        key,
        text.trim() === '' ? [] : text.split(',').map((s) => s.trim()),
      );
    default:
      return validateValue(spec, key, text.trim());
  }
}

/** The value as `registry get` prints it. */
export function formatValue(value: SettingValue): string {
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

export function valuesEqual(a: SettingValue, b: SettingValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

// Key names: fixed keys, aliases from the original RTC registry, and per-account keys.
import { ACCOUNT_ID_PATTERN, KEYS } from './schema.js';
import type { KeySpec } from './schema-types.js';
import { RegistryError } from './values.js';

const FIXED = new Map<string, KeySpec>();
const ACCOUNT_FIELDS = new Map<string, KeySpec>();
const ALIASES = new Map<string, string>();

for (const spec of KEYS) {
  const m = /^accounts\.\*\.(\w+)$/.exec(spec.key);
  if (m?.[1]) ACCOUNT_FIELDS.set(m[1], spec);
  else FIXED.set(spec.key, spec);
  for (const alias of spec.aliases ?? []) ALIASES.set(alias.toLowerCase(), spec.key);
}

export interface ResolvedKey {
  readonly key: string;
  readonly spec: KeySpec;
  /** Set for `accounts.<id>.<field>` keys. */
  readonly accountId?: string;
}

/** Turns a user-given name (canonical, alias, or per-account) into the canonical key and its spec. */
export function resolveKey(name: string): ResolvedKey {
  const fixed = FIXED.get(name);
  if (fixed) return { key: name, spec: fixed };
  const aliased = ALIASES.get(name.toLowerCase());
  if (aliased) return { key: aliased, spec: FIXED.get(aliased) as KeySpec };
  const m = /^accounts\.([^.]+)\.([^.]+)$/.exec(name);
  if (m) {
    const [, id = '', field = ''] = m;
    const spec = ACCOUNT_FIELDS.get(field);
    if (!spec) {
      throw new RegistryError('unknown-key', `unknown account setting "${field}" in ${name}; known: ${[...ACCOUNT_FIELDS.keys()].join(', ')}`, name);
    }
    if (!ACCOUNT_ID_PATTERN.test(id)) {
      throw new RegistryError('unknown-key', `invalid account id "${id}" in ${name}: use 1-32 lower-case letters, digits, - or _`, name);
    }
    return { key: name, spec, accountId: id };
  }
  const near = [...FIXED.keys()].filter((k) => k.toLowerCase().includes(name.toLowerCase().split('.').pop() ?? '')).slice(0, 3);
  throw new RegistryError('unknown-key', `unknown setting "${name}"${near.length ? `; did you mean ${near.join(', ')}?` : ''}`, name);
}

export function fixedKeys(): readonly KeySpec[] {
  return [...FIXED.values()];
}

export function accountFields(): ReadonlyMap<string, KeySpec> {
  return ACCOUNT_FIELDS;
}

export function accountKey(id: string, field: string): string {
  return `accounts.${id}.${field}`;
}

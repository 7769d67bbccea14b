export { Registry, SETTINGS_FILE, type SettingEntry, type SettingChange, type LoadProblem, type RegistryOptions } from './registry.js';
export { RegistryError, describeAllowed, formatValue, parseText, validateValue, isValidHostPort, isValidSipUri } from './values.js';
export { resolveKey, fixedKeys, accountFields } from './keys.js';
export { KEYS, NAT_STRATEGIES, CODECS, MAX_ACCOUNTS } from './schema.js';
export type { KeySpec, SettingValue, ValueType } from './schema-types.js';
export { writeFileAtomic, withFileLock, isProcessAlive } from './atomic-file.js';

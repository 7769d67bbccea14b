// The registry: typed, persisted settings with change events (the RTC client's registry settings).
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { accountFields, accountKey, fixedKeys, resolveKey } from './keys.js';
import { MAX_ACCOUNTS } from './schema.js';
import type { KeySpec, SettingValue } from './schema-types.js';
import { removeStaleTempFiles, withFileLock, writeFileAtomic } from './atomic-file.js';
import { RegistryError, formatValue, parseText, validateValue, valuesEqual } from './values.js';

export const SETTINGS_FILE = 'settings.json';
const FILE_FORMAT = 'deskphone-agent/registry';
const FILE_VERSION = 1;
const MAX_FILE_BYTES = 1024 * 1024;

export interface SettingEntry {
  readonly key: string;
  readonly value: SettingValue;
  readonly isDefault: boolean;
  readonly spec: KeySpec;
}

export interface SettingChange {
  readonly key: string;
  readonly value: SettingValue;
  readonly previous: SettingValue;
  /** The new value takes effect only after a restart. */
  readonly restartRequired: boolean;
}

export interface LoadProblem {
  readonly key?: string;
  readonly message: string;
}

type ChangeListener = (changes: readonly SettingChange[]) => void;

interface Subscription {
  readonly patterns: readonly string[];
  readonly fn: ChangeListener;
}

interface SettingsFile {
  generation: number;
  values: Map<string, SettingValue>;
  problems: LoadProblem[];
}

export interface RegistryOptions {
  /** Called when a subscriber throws; the registry itself keeps going. */
  readonly onListenerError?: (err: unknown) => void;
}

export class Registry {
  private values: Map<string, SettingValue>;
  private generationNo: number;
  private readonly subscriptions = new Set<Subscription>();
  private watcher: FSWatcher | undefined;
  private readonly path: string;
  private readonly lockPath: string;
  /** Problems found in the file at load: bad keys were replaced by their defaults. */
  readonly problems: readonly LoadProblem[];

  private constructor(
    readonly dataDir: string,
    loaded: SettingsFile,
    private readonly options: RegistryOptions,
  ) {
    this.path = join(dataDir, SETTINGS_FILE);
    this.lockPath = join(dataDir, `${SETTINGS_FILE}.lock`);
    this.values = loaded.values;
    this.generationNo = loaded.generation;
    this.problems = loaded.problems;
  }

  /** Opens the registry of a data directory, creating the directory (mode 0700) if needed. */
  static open(dataDir: string, options: RegistryOptions = {}): Registry {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const path = join(dataDir, SETTINGS_FILE);
    removeStaleTempFiles(path);
    return new Registry(dataDir, readSettingsFile(path, true), options);
  }

  get generation(): number {
    return this.generationNo;
  }

  get filePath(): string {
    return this.path;
  }

  get(name: string): SettingValue {
    const { key, spec } = resolveKey(name);
    return this.values.get(key) ?? spec.default;
  }

  getBoolean(name: string): boolean {
    return this.typed(name, 'boolean');
  }

  getNumber(name: string): number {
    return this.typed(name, 'number');
  }

  getString(name: string): string {
    return this.typed(name, 'string');
  }

  getList(name: string): readonly string[] {
    const v = this.get(name);
    if (!Array.isArray(v)) throw new RegistryError('invalid-value', `${name} is not a list`, name);
    return v;
  }

  private typed<T extends 'boolean' | 'number' | 'string'>(name: string, type: T): T extends 'boolean' ? boolean : T extends 'number' ? number : string {
    const v = this.get(name);
    if (typeof v !== type) throw new RegistryError('invalid-value', `${name} is not a ${type}`, name);
    return v as never;
  }

  isSet(name: string): boolean {
    return this.values.has(resolveKey(name).key);
  }

  spec(name: string): KeySpec {
    return resolveKey(name).spec;
  }

  /** Account ids that have at least one setting. */
  accounts(): string[] {
    const ids = new Set<string>();
    for (const key of this.values.keys()) {
      const m = /^accounts\.([^.]+)\./.exec(key);
      if (m?.[1]) ids.add(m[1]);
    }
    return [...ids].sort();
  }

  /** Every key with its current value: fixed keys, then each account's fields. */
  list(): SettingEntry[] {
    const out: SettingEntry[] = [];
    for (const spec of fixedKeys()) out.push(this.entry(spec.key, spec));
    for (const id of this.accounts()) {
      for (const [field, spec] of accountFields()) out.push(this.entry(accountKey(id, field), spec));
    }
    return out;
  }

  private entry(key: string, spec: KeySpec): SettingEntry {
    const v = this.values.get(key);
    return { key, spec, value: v ?? spec.default, isDefault: v === undefined };
  }

  /** Sets one value from its typed form (JSON). Invalid values throw and change nothing. */
  set(name: string, value: unknown): SettingChange[] {
    return this.update({ [name]: value });
  }

  /** Sets one value from command-line text, parsed by the key's type. */
  setText(name: string, text: string): SettingChange[] {
    const { key, spec } = resolveKey(name);
    return this.update({ [key]: parseText(spec, key, text) });
  }

  unset(name: string): SettingChange[] {
    return this.update({ [name]: undefined });
  }

  /** Removes every setting of an account. */
  removeAccount(id: string): SettingChange[] {
    const patch: Record<string, undefined> = {};
    for (const field of accountFields().keys()) patch[accountKey(id, field)] = undefined;
    return this.update(patch);
  }

  /**
   * Applies several changes at once: all are validated first, then written in one atomic file
   * write, then announced. `undefined` resets a key to its default. Nothing changes on error.
   */
  update(patch: Readonly<Record<string, unknown>>): SettingChange[] {
    const normalised = new Map<string, SettingValue | undefined>();
    for (const [name, value] of Object.entries(patch)) {
      const { key, spec } = resolveKey(name);
      normalised.set(key, value === undefined || value === null ? undefined : validateValue(spec, key, value));
    }
    let changes: SettingChange[] = [];
    withFileLock(this.lockPath, () => {
      // Start from what is on disk, so a change made by another process (CLI vs daemon) is kept;
      // a file that vanished is written again from what we hold.
      const disk = existsSync(this.path) ? readSettingsFile(this.path, false) : { values: new Map(this.values), generation: this.generationNo };
      const next = new Map(disk.values);
      for (const [key, value] of normalised) {
        if (value === undefined || valuesEqual(value, resolveKey(key).spec.default)) next.delete(key);
        else next.set(key, value);
      }
      checkCrossKeyRules(next);
      checkAccountCount(next);
      writeFileAtomic(this.path, serialise(disk.generation + 1, next));
      changes = this.adopt(next, disk.generation + 1);
    });
    this.announce(changes);
    return changes;
  }

  /** Re-reads the file (after another process changed it) and announces what changed. */
  reload(): SettingChange[] {
    // A settings file that vanished (deleted by hand, a data dir being cleaned up) is not an order
    // to forget every setting: keep what we have; the next change writes the file again.
    if (!existsSync(this.path)) return [];
    const disk = readSettingsFile(this.path, false);
    if (disk.generation === this.generationNo) return [];
    const changes = this.adopt(disk.values, disk.generation);
    this.announce(changes);
    return changes;
  }

  private adopt(next: Map<string, SettingValue>, generation: number): SettingChange[] {
    const changes: SettingChange[] = [];
    const keys = new Set([...this.values.keys(), ...next.keys()]);
    for (const key of keys) {
      const spec = resolveKey(key).spec;
      const before = this.values.get(key) ?? spec.default;
      const after = next.get(key) ?? spec.default;
      if (!valuesEqual(before, after)) {
        changes.push({ key, value: after, previous: before, restartRequired: spec.restart === true });
      }
    }
    this.values = next;
    this.generationNo = generation;
    return changes;
  }

  /**
   * Subscribes to changes of keys: exact names, or prefixes ending in `.` or `*`
   * (`accounts.` or `nat.*`). The listener gets the changes of one update together.
   */
  subscribe(patterns: readonly string[], fn: ChangeListener): () => void {
    const sub: Subscription = { patterns: patterns.map(canonicalPattern), fn };
    this.subscriptions.add(sub);
    return () => this.subscriptions.delete(sub);
  }

  private announce(changes: readonly SettingChange[]): void {
    if (changes.length === 0) return;
    for (const sub of [...this.subscriptions]) {
      const mine = changes.filter((c) => sub.patterns.some((p) => matches(p, c.key)));
      if (mine.length === 0) continue;
      try {
        sub.fn(mine);
      } catch (err) {
        this.options.onListenerError?.(err);
      }
    }
  }

  /** Watches the settings file so changes made with the CLI reach a running daemon. */
  watchFile(): void {
    if (this.watcher) return;
    // Watch the directory: the file itself is replaced by rename on every write.
    this.watcher = watch(this.dataDir, { persistent: false }, (_event, name) => {
      if (name !== SETTINGS_FILE) return;
      try {
        this.reload();
      } catch (err) {
        this.options.onListenerError?.(err);
      }
    });
  }

  /** Values for export: secrets are left out unless asked for. */
  export(includeSecrets: boolean): Record<string, SettingValue> {
    const out: Record<string, SettingValue> = {};
    for (const entry of this.list()) {
      if (entry.isDefault) continue;
      if (entry.spec.secret && !includeSecrets) continue;
      out[entry.key] = entry.value;
    }
    return out;
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.subscriptions.clear();
  }
}

function canonicalPattern(p: string): string {
  if (p.endsWith('*')) return p.slice(0, -1);
  if (p.endsWith('.')) return p;
  return resolveKey(p).key;
}

function matches(pattern: string, key: string): boolean {
  // '' (from '*') matches every key; 'nat.' every nat key; anything else one key.
  return pattern === '' || (pattern.endsWith('.') ? key.startsWith(pattern) : pattern === key);
}

function serialise(generation: number, values: ReadonlyMap<string, SettingValue>): string {
  const settings: Record<string, SettingValue> = {};
  for (const key of [...values.keys()].sort()) settings[key] = values.get(key) as SettingValue;
  return `${JSON.stringify({ format: FILE_FORMAT, version: FILE_VERSION, generation, settings }, null, 2)}\n`;
}

function checkCrossKeyRules(values: Map<string, SettingValue>): void {
  const min = (values.get('rtp.portMin') ?? resolveKey('rtp.portMin').spec.default) as number;
  const max = (values.get('rtp.portMax') ?? resolveKey('rtp.portMax').spec.default) as number;
  if (max - min < 3) {
    throw new RegistryError(
      'invalid-value',
      `invalid RTP port range ${min}-${max}: rtp.portMax must be at least rtp.portMin + 3 (room for one RTP/RTCP pair and a spare)`,
      values.has('rtp.portMax') ? 'rtp.portMax' : 'rtp.portMin',
    );
  }
}

function checkAccountCount(values: Map<string, SettingValue>): void {
  const ids = new Set<string>();
  for (const key of values.keys()) {
    const m = /^accounts\.([^.]+)\./.exec(key);
    if (m?.[1]) ids.add(m[1]);
  }
  if (ids.size > MAX_ACCOUNTS) {
    throw new RegistryError('invalid-value', `too many accounts (${ids.size}): at most ${MAX_ACCOUNTS} are supported`);
  }
}

/**
 * Reads the settings file. A missing file means defaults. With `tolerant`, the start-up path,
 * a broken file never stops the daemon: an unreadable file is kept aside as
 * settings.json.corrupt-<time> and defaults are used; a bad key falls back to its default and the
 * rest is kept. Without it (read-modify-write), a broken file is an error so nothing is lost.
 */
function readSettingsFile(path: string, tolerant: boolean): SettingsFile {
  const problems: LoadProblem[] = [];
  const values = new Map<string, SettingValue>();
  if (!existsSync(path)) return { generation: 0, values, problems };
  let doc: unknown;
  try {
    if (statSync(path).size > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES} bytes`);
    doc = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not a JSON object');
  } catch (err) {
    const message = `settings file ${path} is unreadable (${(err as Error).message})`;
    if (!tolerant) throw new RegistryError('invalid-file', message);
    const aside = `${path}.corrupt-${Date.now()}`;
    try {
      renameSync(path, aside);
    } catch {
      // leave it where it is
    }
    problems.push({ message: `${message}; kept as ${aside}, using defaults` });
    return { generation: 0, values, problems };
  }
  const obj = doc as Record<string, unknown>;
  const generation = typeof obj['generation'] === 'number' && Number.isSafeInteger(obj['generation']) && obj['generation'] >= 0 ? obj['generation'] : 0;
  // Accept a bare {key: value} object too, as someone editing by hand might write.
  const settings = typeof obj['settings'] === 'object' && obj['settings'] !== null && !Array.isArray(obj['settings'])
    ? (obj['settings'] as Record<string, unknown>)
    : obj['format'] === undefined ? obj : {};
  for (const [name, raw] of Object.entries(settings)) {
    try {
      const { key, spec } = resolveKey(name);
      const value = validateValue(spec, key, raw);
      if (!valuesEqual(value, spec.default)) values.set(key, value);
    } catch (err) {
      problems.push({ key: name, message: `${(err as Error).message}; using the default` });
    }
  }
  try {
    checkCrossKeyRules(values);
  } catch (err) {
    values.delete('rtp.portMin');
    values.delete('rtp.portMax');
    problems.push({ key: 'rtp.portMax', message: `${(err as Error).message}; using the default range` });
  }
  return { generation, values, problems };
}

export { formatValue };

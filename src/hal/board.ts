// Board definitions (board/*.json): which drivers the phone uses and how they are wired.
// Parsed here, at the edge, into typed values; the rest of the daemon trusts them.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CodedError } from '../util/errors.js';

export class BoardError extends CodedError<'invalid-board' | 'unknown-board'> {}

export type InputDriver =
  | { driver: 'sim' }
  /** A Linux input device (gpio-keys / gpio-matrix-keypad); `keymap` maps key codes to keys. */
  | { driver: 'input-event'; device: string; keymap: Readonly<Record<string, string>> };

export type OutputDriver =
  | { driver: 'sim' }
  | { driver: 'none' }
  /** A gpio-leds class device: /sys/class/leds/<name>. */
  | { driver: 'sysfs-led'; name: string };

export interface KeypadMatrix {
  readonly rows: readonly string[];
  readonly columns: readonly string[];
  readonly keys: readonly (readonly string[])[];
}

export interface BoardDefinition {
  readonly name: string;
  readonly description: string;
  readonly hook: InputDriver;
  readonly keypad: InputDriver & { readonly matrix?: KeypadMatrix };
  readonly ringer: OutputDriver;
  readonly leds: Readonly<Record<string, OutputDriver>>;
  readonly display: { readonly driver: 'sim' | 'none'; readonly columns: number; readonly rows: number };
  readonly audio: { readonly capture: string; readonly playback: string };
  /** Device-tree overlay that creates the input and LED devices (documentation for installers). */
  readonly overlay?: string;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const GPIO_LINE = /^GPIO\d{1,2}$/;
const KEYS = new Set(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'hook', 'redial', 'hold', 'transfer', 'mute', 'speaker', 'volup', 'voldown', 'dnd', 'message']);
const MAX_BOARD_BYTES = 64 * 1024;

type Obj = Record<string, unknown>;

function fail(where: string, what: string): never {
  throw new BoardError('invalid-board', `${where}: ${what}`);
}

function obj(v: unknown, where: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, 'expected an object');
  return v as Obj;
}

function str(v: unknown, where: string, max = 256): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) fail(where, `expected a non-empty string of at most ${max} characters`);
  return v;
}

function int(v: unknown, where: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(where, `expected an integer from ${min} to ${max}`);
  return v;
}

function checkKeys(o: Obj, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`${where}.${k}`, 'unknown field');
}

function inputDriver(v: unknown, where: string): InputDriver {
  const o = obj(v, where);
  if (o['driver'] === 'sim') return { driver: 'sim' };
  if (o['driver'] === 'input-event') {
    const device = str(o['device'], `${where}.device`);
    if (!device.startsWith('/dev/input/')) fail(`${where}.device`, 'must be under /dev/input/');
    const km = obj(o['keymap'], `${where}.keymap`);
    const keymap: Record<string, string> = {};
    for (const [code, key] of Object.entries(km)) {
      if (!/^\d{1,4}$/.test(code)) fail(`${where}.keymap`, `key code "${code}" is not a number`);
      if (typeof key !== 'string' || !KEYS.has(key)) fail(`${where}.keymap.${code}`, `unknown key ${JSON.stringify(key)}; known: ${[...KEYS].join(' ')}`);
      keymap[code] = key;
    }
    return { driver: 'input-event', device, keymap };
  }
  fail(`${where}.driver`, 'expected "sim" or "input-event"');
}

function outputDriver(v: unknown, where: string): OutputDriver {
  const o = obj(v, where);
  if (o['driver'] === 'sim') return { driver: 'sim' };
  if (o['driver'] === 'none') return { driver: 'none' };
  if (o['driver'] === 'sysfs-led') {
    const name = str(o['name'], `${where}.name`, 64);
    if (!/^[A-Za-z0-9_:.-]+$/.test(name)) fail(`${where}.name`, 'must be a /sys/class/leds entry name');
    return { driver: 'sysfs-led', name };
  }
  fail(`${where}.driver`, 'expected "sim", "none" or "sysfs-led"');
}

function matrix(v: unknown, where: string): KeypadMatrix {
  const o = obj(v, where);
  const lines = (x: unknown, w: string): string[] => {
    if (!Array.isArray(x) || x.length === 0 || x.length > 8) fail(w, 'expected 1 to 8 GPIO line names');
    return x.map((l, i) => {
      const s = str(l, `${w}[${i}]`, 16);
      if (!GPIO_LINE.test(s)) fail(`${w}[${i}]`, 'GPIO lines are named like GPIO17, never numbered');
      return s;
    });
  };
  const rows = lines(o['rows'], `${where}.rows`);
  const columns = lines(o['columns'], `${where}.columns`);
  const keys = o['keys'];
  if (!Array.isArray(keys) || keys.length !== rows.length) fail(`${where}.keys`, `expected ${rows.length} rows of keys`);
  const grid = keys.map((row, r) => {
    if (!Array.isArray(row) || row.length !== columns.length) fail(`${where}.keys[${r}]`, `expected ${columns.length} keys`);
    return row.map((k, c) => {
      if (typeof k !== 'string' || !KEYS.has(k)) fail(`${where}.keys[${r}][${c}]`, `unknown key ${JSON.stringify(k)}`);
      return k;
    });
  });
  return { rows, columns, keys: grid };
}

/** Validates a parsed board JSON document. */
export function parseBoard(doc: unknown, source = 'board'): BoardDefinition {
  const o = obj(doc, source);
  checkKeys(o, ['$comment', 'name', 'description', 'hook', 'keypad', 'ringer', 'leds', 'display', 'audio', 'overlay'], source);
  const name = str(o['name'], `${source}.name`, 64);
  if (!NAME.test(name)) fail(`${source}.name`, 'use lower-case letters, digits and -');
  const keypadObj = obj(o['keypad'], `${source}.keypad`);
  const keypad = inputDriver(keypadObj, `${source}.keypad`);
  const leds: Record<string, OutputDriver> = {};
  const ledsObj = obj(o['leds'] ?? {}, `${source}.leds`);
  if (Object.keys(ledsObj).length > 16) fail(`${source}.leds`, 'at most 16 LEDs');
  for (const [ledName, drv] of Object.entries(ledsObj)) {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(ledName)) fail(`${source}.leds.${ledName}`, 'LED names are lower-case words');
    leds[ledName] = outputDriver(drv, `${source}.leds.${ledName}`);
  }
  const display = obj(o['display'], `${source}.display`);
  const displayDriver = display['driver'];
  if (displayDriver !== 'sim' && displayDriver !== 'none') fail(`${source}.display.driver`, 'expected "sim" or "none"');
  const audio = obj(o['audio'], `${source}.audio`);
  const board: BoardDefinition = {
    name,
    description: str(o['description'], `${source}.description`, 512),
    hook: inputDriver(o['hook'], `${source}.hook`),
    keypad: keypadObj['matrix'] === undefined ? keypad : { ...keypad, matrix: matrix(keypadObj['matrix'], `${source}.keypad.matrix`) },
    ringer: outputDriver(o['ringer'], `${source}.ringer`),
    leds,
    display: {
      driver: displayDriver,
      columns: int(display['columns'] ?? 20, `${source}.display.columns`, 8, 80),
      rows: int(display['rows'] ?? 2, `${source}.display.rows`, 1, 8),
    },
    audio: { capture: str(audio['capture'], `${source}.audio.capture`, 128), playback: str(audio['playback'], `${source}.audio.playback`, 128) },
    ...(o['overlay'] !== undefined ? { overlay: str(o['overlay'], `${source}.overlay`) } : {}),
  };
  return board;
}

/** Loads `<dir>/<name>.json`. */
export function loadBoard(dir: string, name: string): BoardDefinition {
  if (!NAME.test(name)) throw new BoardError('unknown-board', `invalid board name "${name}"`);
  const path = join(dir, `${name}.json`);
  let text: string;
  try {
    if (statSync(path).size > MAX_BOARD_BYTES) throw new BoardError('invalid-board', `${path} is larger than ${MAX_BOARD_BYTES} bytes`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof BoardError) throw err;
    throw new BoardError('unknown-board', `unknown board "${name}" (no ${path}); known: ${listBoards(dir).join(', ')}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new BoardError('invalid-board', `${path}: not valid JSON (${(err as Error).message})`);
  }
  const board = parseBoard(doc, path);
  if (board.name !== name) throw new BoardError('invalid-board', `${path}: name is "${board.name}", expected "${name}"`);
  return board;
}

export function listBoards(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
  } catch {
    return [];
  }
}

/** "auto": a Raspberry Pi gets the default Pi board, anything else the sim board. */
export function autoBoardName(deviceTreeModelPath = '/proc/device-tree/model'): string {
  try {
    if (readFileSync(deviceTreeModelPath, 'utf8').startsWith('Raspberry Pi')) return 'pi-deskphone';
  } catch {
    // not a device-tree machine
  }
  return 'sim';
}

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BoardError, EV_KEY, InputEventDecoder, LinuxHardware, encodeInputEvent, listBoards, loadBoard, parseBoard, autoBoardName } from '../../../src/hal/index.js';
import { REPO_ROOT } from '../../helpers/paths.js';
import { tempDir } from '../../helpers/tmp.js';

const BOARDS = join(REPO_ROOT, 'board');

test('the shipped boards validate: sim and pi-deskphone', () => {
  assert.deepEqual(listBoards(BOARDS), ['pi-deskphone', 'sim']);
  const sim = loadBoard(BOARDS, 'sim');
  assert.equal(sim.hook.driver, 'sim');
  assert.deepEqual(Object.keys(sim.leds), ['line', 'message', 'mute']);
  const pi = loadBoard(BOARDS, 'pi-deskphone');
  assert.equal(pi.keypad.driver, 'input-event');
  assert.deepEqual(pi.keypad.matrix?.rows, ['GPIO5', 'GPIO6', 'GPIO13', 'GPIO19']);
  assert.equal(pi.audio.capture, 'plughw:CARD=Device');
  assert.deepEqual(pi.ringer, { driver: 'sysfs-led', name: 'deskphone:ringer' });
});

test('a board with a numbered GPIO, an unknown field or a bad key is refused with the field named', () => {
  const pi = JSON.parse(readFileSync(join(BOARDS, 'pi-deskphone.json'), 'utf8'));
  const numbered = structuredClone(pi);
  numbered.keypad.matrix.rows[0] = '517';
  assert.throws(() => parseBoard(numbered, 'b'), /b\.keypad\.matrix\.rows\[0\]: GPIO lines are named/);
  assert.throws(() => parseBoard({ ...pi, colour: 'red' }, 'b'), /b\.colour: unknown field/);
  const badKey = structuredClone(pi);
  badKey.keypad.keymap['2'] = 'launch';
  assert.throws(() => parseBoard(badKey, 'b'), /unknown key "launch"/);
  assert.throws(() => parseBoard([], 'b'), BoardError);
});

test('an unknown board name lists the known ones', () => {
  assert.throws(() => loadBoard(BOARDS, 'nokia'), /unknown board "nokia".*known: pi-deskphone, sim/);
  assert.throws(() => loadBoard(BOARDS, '../etc/passwd'), /invalid board name/);
});

test('auto picks pi-deskphone on a Raspberry Pi and sim elsewhere', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'model'), 'Raspberry Pi 5 Model B Rev 1.0\u0000');
  assert.equal(autoBoardName(join(dir, 'model')), 'pi-deskphone');
  assert.equal(autoBoardName(join(dir, 'missing')), 'sim');
});

test('input events split across reads decode to whole events', () => {
  const bytes = Buffer.concat([
    encodeInputEvent({ type: EV_KEY, code: 169, value: 1 }),
    encodeInputEvent({ type: 0, code: 0, value: 0 }),
    encodeInputEvent({ type: EV_KEY, code: 4, value: 1 }),
  ]);
  const dec = new InputEventDecoder();
  const got = [...dec.push(bytes.subarray(0, 30)), ...dec.push(bytes.subarray(30, 50)), ...dec.push(bytes.subarray(50))];
  assert.deepEqual(got, [{ type: 1, code: 169, value: 1 }, { type: 0, code: 0, value: 0 }, { type: 1, code: 4, value: 1 }]);
});

test('the Linux drivers turn input events into hook and key events and drive gpio-leds', async () => {
  const dir = tempDir();
  const pi = loadBoard(BOARDS, 'pi-deskphone');
  const hookDev = join(dir, 'hook');
  const keyDev = join(dir, 'keys');
  writeFileSync(hookDev, Buffer.concat([encodeInputEvent({ type: EV_KEY, code: 169, value: 1 })]));
  writeFileSync(keyDev, Buffer.concat([4, 11, 523].flatMap((code) => [encodeInputEvent({ type: EV_KEY, code, value: 1 }), encodeInputEvent({ type: EV_KEY, code, value: 0 })])));
  const leds = join(dir, 'leds');
  for (const name of ['deskphone:ringer', 'deskphone:green:line']) mkdirSync(join(leds, name), { recursive: true });
  const board = { ...pi, hook: { ...pi.hook, device: hookDev }, keypad: { ...pi.keypad, device: keyDev } } as typeof pi;
  const hw = new LinuxHardware(board, { ledsRoot: leds });
  const keys: string[] = [];
  const hooks: boolean[] = [];
  const faults: string[] = [];
  hw.events.on('key', ({ key }) => keys.push(key));
  hw.events.on('hook', ({ offHook }) => hooks.push(offHook));
  hw.events.on('fault', ({ part }) => faults.push(part));
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`events not seen: keys=${keys.join('')}`)), 2000);
    const check = setInterval(() => {
      if (keys.length === 3 && hooks.length === 1) {
        clearInterval(check);
        clearTimeout(deadline);
        resolve();
      }
    }, 5);
  });
  assert.deepEqual(keys, ['3', '0', '#']);
  assert.deepEqual(hooks, [true]);
  hw.setRinger(true);
  assert.equal(readFileSync(join(leds, 'deskphone:ringer', 'brightness'), 'utf8'), '1');
  hw.setLed('line', 'blink-slow');
  assert.equal(readFileSync(join(leds, 'deskphone:green:line', 'trigger'), 'utf8'), 'timer');
  assert.equal(readFileSync(join(leds, 'deskphone:green:line', 'delay_on'), 'utf8'), '500');
  hw.setLed('message', 'on'); // LED directory missing: reported, not thrown
  assert.deepEqual(faults, ['led message']);
  await hw.close();
});

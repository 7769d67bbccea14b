// The pi-deskphone device-tree overlay compiles with the real dtc and declares what the board
// definition expects (gpio-keys with KEY_PHONE, a 4x3 gpio-matrix-keypad, the gpio-leds labels).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadBoard } from '../../src/hal/index.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';

test('board/pi-deskphone-overlay.dts compiles with dtc and matches board/pi-deskphone.json', () => {
  const out = join(tempDir(), 'deskphone.dtbo');
  execFileSync('dtc', ['-@', '-q', '-I', 'dts', '-O', 'dtb', '-o', out, join(REPO_ROOT, 'board', 'pi-deskphone-overlay.dts')]);
  const decompiled = execFileSync('dtc', ['-q', '-I', 'dtb', '-O', 'dts', out], { encoding: 'utf8' });
  assert.match(decompiled, /compatible = "gpio-keys"/);
  assert.match(decompiled, /linux,code = <0xa9>/, 'KEY_PHONE (169) on the hook switch');
  assert.match(decompiled, /compatible = "gpio-matrix-keypad"/);
  const board = loadBoard(join(REPO_ROOT, 'board'), 'pi-deskphone');
  for (const drv of [board.ringer, ...Object.values(board.leds)]) {
    assert.equal(drv.driver, 'sysfs-led');
    if (drv.driver === 'sysfs-led') assert.ok(decompiled.includes(`label = "${drv.name}"`), `overlay declares LED ${drv.name}`);
  }
  const keymap = /linux,keymap = <([^>]+)>/.exec(decompiled)?.[1]?.trim().split(/\s+/).map((x) => Number(x)) ?? [];
  assert.equal(keymap.length, 12);
  const codes = keymap.map((k) => String(k & 0xffff));
  for (const code of codes) assert.ok(board.keypad.driver === 'input-event' && board.keypad.keymap[code], `key code ${code} is mapped in the board`);
});

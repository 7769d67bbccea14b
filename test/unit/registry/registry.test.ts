import assert from 'node:assert/strict';
import { rmSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { KEYS, Registry, RegistryError, type SettingChange } from '../../../src/registry/index.js';
import { tempDir } from '../../helpers/tmp.js';

test('every schema key has a description, a valid default and a unique name', () => {
  const names = new Set<string>();
  for (const spec of KEYS) {
    assert.ok(spec.description.length > 10, spec.key);
    assert.ok(!names.has(spec.key), `duplicate ${spec.key}`);
    names.add(spec.key);
  }
  const reg = Registry.open(tempDir());
  for (const e of reg.list()) assert.ok(e.isDefault);
  for (const fixed of ['sip.localPort', 'rtc.enableEarlyUdpPackets', 'nat.strategy', 'nat.stunServer', 'nat.turnServer', 'nat.turnUsername', 'nat.turnPassword', 'nat.upnpEnabled']) {
    assert.ok(names.has(fixed), fixed);
  }
  for (const f of ['registrar', 'user', 'authUser', 'password', 'transport']) assert.ok(names.has(`accounts.*.${f}`), f);
});

test('a set value is persisted atomically with mode 0600 and read back by a new instance', () => {
  const dir = tempDir();
  const reg = Registry.open(dir);
  reg.setText('sip.localPort', '5070');
  reg.setText('accounts.home.registrar', 'sip:example.net');
  const file = join(dir, 'settings.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(doc.generation, 2);
  assert.deepEqual(doc.settings, { 'accounts.home.registrar': 'sip:example.net', 'sip.localPort': 5070 });
  assert.deepEqual(readdirSync(dir).sort(), ['settings.json']);
  const again = Registry.open(dir);
  assert.equal(again.get('sip.localPort'), 5070);
  assert.deepEqual(again.accounts(), ['home']);
});

test('a bad value is refused with key, value and allowed range, and changes nothing', () => {
  const dir = tempDir();
  const reg = Registry.open(dir);
  reg.setText('sip.localPort', '5070');
  const before = readFileSync(join(dir, 'settings.json'), 'utf8');
  assert.throws(() => reg.update({ 'nat.strategy': 'stun', 'sip.localPort': 0 }), /invalid value 0 for sip.localPort: too small; expected an integer from 1 to 65535/);
  assert.equal(readFileSync(join(dir, 'settings.json'), 'utf8'), before);
  assert.equal(reg.get('nat.strategy'), 'auto');
});

test('an RTP range with max below min is refused', () => {
  const reg = Registry.open(tempDir());
  assert.throws(() => reg.update({ 'rtp.portMin': 20000, 'rtp.portMax': 19000 }), /rtp.portMax must be at least rtp.portMin/);
  reg.update({ 'rtp.portMin': 20000, 'rtp.portMax': 20100 });
  assert.equal(reg.get('rtp.portMax'), 20100);
});

test('a hand-edited file with bad values keeps the good ones and reports each bad key', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'settings.json'), JSON.stringify({
    format: 'deskphone-agent/registry', version: 1, generation: 7,
    settings: { 'sip.localPort': 'five', 'nat.strategy': 'stun', 'nat.bogus': 1, 'accounts.home.user': 'alice', 'log.level': 'loud' },
  }));
  const reg = Registry.open(dir);
  assert.equal(reg.get('sip.localPort'), 5060);
  assert.equal(reg.get('nat.strategy'), 'stun');
  assert.equal(reg.get('accounts.home.user'), 'alice');
  assert.equal(reg.get('log.level'), 'info');
  assert.deepEqual(reg.problems.map((p) => p.key).sort(), ['log.level', 'nat.bogus', 'sip.localPort']);
  assert.match(reg.problems.find((p) => p.key === 'sip.localPort')?.message ?? '', /"five".*using the default/);
});

test('an unparseable file is set aside, never lost, and the daemon starts on defaults', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'settings.json'), '{"settings": {"sip.localPort": 50');
  const reg = Registry.open(dir);
  assert.equal(reg.get('sip.localPort'), 5060);
  assert.equal(reg.problems.length, 1);
  const aside = readdirSync(dir).find((f) => f.startsWith('settings.json.corrupt-'));
  assert.ok(aside, 'corrupt file kept');
  assert.equal(readFileSync(join(dir, aside), 'utf8'), '{"settings": {"sip.localPort": 50');
});

test('subscribers hear only their keys, with restart flags, and a throwing listener breaks nothing', () => {
  const errors: unknown[] = [];
  const reg = Registry.open(tempDir(), { onListenerError: (e) => errors.push(e) });
  const nat: SettingChange[] = [];
  const sip: SettingChange[] = [];
  reg.subscribe(['nat.'], (c) => nat.push(...c));
  reg.subscribe(['sip.localPort'], (c) => sip.push(...c));
  reg.subscribe(['nat.strategy'], () => {
    throw new Error('listener bug');
  });
  reg.update({ 'nat.strategy': 'stun', 'nat.stunServer': 'stun.example.net:3478', 'sip.localPort': 5080 });
  assert.deepEqual(nat.map((c) => c.key).sort(), ['nat.strategy', 'nat.stunServer']);
  assert.deepEqual(sip, [{ key: 'sip.localPort', value: 5080, previous: 5060, restartRequired: true }]);
  assert.equal(errors.length, 1);
  assert.equal(reg.get('nat.strategy'), 'stun');
});

test('setting a value equal to the default removes it from the file', () => {
  const dir = tempDir();
  const reg = Registry.open(dir);
  reg.set('nat.strategy', 'stun');
  reg.set('nat.strategy', 'auto');
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'settings.json'), 'utf8')).settings, {});
  assert.equal(reg.isSet('nat.strategy'), false);
});

test('two instances (CLI and daemon) never lose each other\'s changes; reload announces them', () => {
  const dir = tempDir();
  const daemon = Registry.open(dir);
  const cli = Registry.open(dir);
  daemon.set('nat.strategy', 'upnp');
  cli.set('sip.localPort', 5090);
  const heard: string[] = [];
  daemon.subscribe(['sip.localPort'], (c) => heard.push(...c.map((x) => `${x.key}=${String(x.value)}`)));
  daemon.reload();
  assert.deepEqual(heard, ['sip.localPort=5090']);
  assert.equal(daemon.get('nat.strategy'), 'upnp');
  assert.equal(Registry.open(dir).get('nat.strategy'), 'upnp');
});

test('a settings file that vanishes under a running daemon does not reset its settings; the next change writes it again', () => {
  const dir = tempDir();
  const reg = Registry.open(dir);
  reg.set('accounts.home.user', 'alice');
  const heard: string[] = [];
  reg.subscribe(['*'], (c) => heard.push(...c.map((x) => x.key)));
  rmSync(join(dir, 'settings.json'));
  assert.deepEqual(reg.reload(), []);
  assert.deepEqual(heard, []);
  assert.equal(reg.get('accounts.home.user'), 'alice');
  reg.set('nat.strategy', 'stun');
  assert.equal(Registry.open(dir).get('accounts.home.user'), 'alice');
});

test('export leaves secrets out unless asked', () => {
  const reg = Registry.open(tempDir());
  reg.update({ 'accounts.home.user': 'alice', 'accounts.home.password': 'hunter2-secret', 'nat.turnPassword': 'relay-pw' });
  assert.deepEqual(reg.export(false), { 'accounts.home.user': 'alice' });
  assert.deepEqual(reg.export(true), { 'accounts.home.password': 'hunter2-secret', 'accounts.home.user': 'alice', 'nat.turnPassword': 'relay-pw' });
});

test('more than eight accounts are refused', () => {
  const reg = Registry.open(tempDir());
  for (let i = 0; i < 8; i++) reg.set(`accounts.a${i}.user`, `u${i}`);
  assert.throws(() => reg.set('accounts.a8.user', 'u8'), (e: unknown) => e instanceof RegistryError && /too many accounts/.test(e.message));
});

test('a stale lock left by a killed writer is taken over', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'settings.json.lock'), '999999999');
  const reg = Registry.open(dir);
  reg.set('nat.strategy', 'none');
  assert.equal(Registry.open(dir).get('nat.strategy'), 'none');
});

test('a "*" subscriber hears every change', () => {
  const reg = Registry.open(tempDir());
  const heard: string[] = [];
  reg.subscribe(['*'], (c) => heard.push(...c.map((x) => x.key)));
  reg.update({ 'nat.strategy': 'none', 'accounts.a.user': 'bob' });
  assert.deepEqual(heard.sort(), ['accounts.a.user', 'nat.strategy']);
});

import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { SimHardware, loadBoard } from '../../../src/hal/index.js';
import { Registry } from '../../../src/registry/index.js';
import { FakeClock } from '../../../src/util/index.js';
import { AdminCredentials, buildServer, type StatusSource } from '../../../src/web/index.js';
import { REPO_ROOT } from '../../helpers/paths.js';
import { tempDir } from '../../helpers/tmp.js';

function setup() {
  const dir = tempDir();
  const registry = Registry.open(dir);
  const credentials = new AdminCredentials(dir);
  const hardware = new SimHardware(loadBoard(join(REPO_ROOT, 'board'), 'sim'));
  const status: StatusSource = {
    registrations: () => [],
    nat: () => ({ strategy: 'auto', natType: null, publicAddress: null, mappings: [] }),
    calls: () => [],
    phoneState: () => 'idle',
    problems: () => [],
  };
  const app = buildServer({ registry, credentials, hardware, status, clock: new FakeClock(), version: '9.9.9', board: 'sim', startedAtMs: 0, logger: pino({ level: 'silent' }) });
  return { dir, registry, credentials, hardware, app };
}

const LOCAL = { remoteAddress: '127.0.0.1' };
const REMOTE = { remoteAddress: '198.51.100.7' };

test('before a password exists, loopback clients use the API without a token and others are refused', async () => {
  const { app } = setup();
  const local = await app.inject({ method: 'GET', url: '/api/status', ...LOCAL });
  assert.equal(local.statusCode, 200);
  const body = local.json();
  assert.equal(body.version, '9.9.9');
  assert.equal(body.board, 'sim');
  assert.equal(body.setupRequired, true);
  assert.deepEqual(body.registrations, []);
  assert.deepEqual(body.nat, { strategy: 'auto', natType: null, publicAddress: null, mappings: [] });
  const remote = await app.inject({ method: 'GET', url: '/api/status', ...REMOTE });
  assert.equal(remote.statusCode, 401);
});

test('once a password is set every call needs a token; admin tokens and login sessions work', async () => {
  const { app, credentials, dir } = setup();
  credentials.setPassword('correct horse battery');
  assert.equal(statSync(join(dir, 'admin.json')).mode & 0o777, 0o600);
  assert.equal((await app.inject({ method: 'GET', url: '/api/status', ...LOCAL })).statusCode, 401);
  const token = credentials.createToken();
  const ok = await app.inject({ method: 'GET', url: '/api/status', headers: { authorization: `Bearer ${token}` }, ...REMOTE });
  assert.equal(ok.statusCode, 200);
  assert.equal(ok.json().setupRequired, false);
  assert.equal((await app.inject({ method: 'GET', url: '/api/status', headers: { authorization: 'Bearer nope' }, ...REMOTE })).statusCode, 401);

  const bad = await app.inject({ method: 'POST', url: '/api/session', payload: { password: 'wrong' }, ...REMOTE });
  assert.equal(bad.statusCode, 401);
  const login = await app.inject({ method: 'POST', url: '/api/session', payload: { password: 'correct horse battery' }, ...REMOTE });
  assert.equal(login.statusCode, 201);
  const session = login.json().token as string;
  assert.equal((await app.inject({ method: 'GET', url: '/api/status', headers: { authorization: `Bearer ${session}` }, ...REMOTE })).statusCode, 200);
});

test('repeated wrong passwords are throttled with 429', async () => {
  const { app, credentials } = setup();
  credentials.setPassword('correct horse battery');
  const codes: number[] = [];
  for (let i = 0; i < 7; i++) codes.push((await app.inject({ method: 'POST', url: '/api/session', payload: { password: `guess${i}` }, remoteAddress: '198.51.100.9' })).statusCode);
  assert.deepEqual(codes, [401, 401, 401, 401, 401, 429, 429]);
});

test('registry over HTTP: list hides secrets, PUT validates, aliases resolve, DELETE resets', async () => {
  const { app, registry } = setup();
  registry.set('accounts.home.password', 'pw-123456');
  const list = (await app.inject({ method: 'GET', url: '/api/registry', ...LOCAL })).json().settings as Array<{ key: string; value: unknown; description: string }>;
  assert.equal(list.find((s) => s.key === 'accounts.home.password')?.value, '********');
  assert.ok(!JSON.stringify(list).includes('pw-123456'));
  assert.ok(list.find((s) => s.key === 'rtc.enableEarlyUdpPackets')?.description.includes('early media'));

  const bad = await app.inject({ method: 'PUT', url: '/api/registry/sip.localPort', payload: { value: 70000 }, ...LOCAL });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().message, /invalid value 70000 for sip.localPort/);
  assert.equal(registry.get('sip.localPort'), 5060);

  const put = await app.inject({ method: 'PUT', url: '/api/registry/EnableEarlyUDPPackets', payload: { value: 'true' }, ...LOCAL });
  assert.equal(put.statusCode, 200);
  assert.deepEqual(put.json(), { key: 'rtc.enableEarlyUdpPackets', value: true, restartRequired: false });
  assert.equal(registry.get('rtc.enableEarlyUdpPackets'), true);

  const batch = await app.inject({ method: 'PUT', url: '/api/registry', payload: { settings: { 'nat.strategy': 'stun', 'nat.stunServer': 'nope nope' } }, ...LOCAL });
  assert.equal(batch.statusCode, 400);
  assert.equal(registry.get('nat.strategy'), 'auto', 'all or nothing');

  assert.equal((await app.inject({ method: 'GET', url: '/api/registry/nat.nothing', ...LOCAL })).statusCode, 404);
  assert.equal((await app.inject({ method: 'DELETE', url: '/api/registry/rtc.enableEarlyUdpPackets', ...LOCAL })).statusCode, 200);
  assert.equal(registry.get('rtc.enableEarlyUdpPackets'), false);
});

test('sim endpoints lift the handset and press keys; bad input gets 400', async () => {
  const { app, hardware } = setup();
  const keys: string[] = [];
  hardware.events.on('key', ({ key }) => keys.push(key));
  assert.equal((await app.inject({ method: 'POST', url: '/api/sim/hook', payload: { offHook: true }, ...LOCAL })).json().offHook, true);
  assert.equal((await app.inject({ method: 'POST', url: '/api/sim/keys', payload: { keys: '12#' }, ...LOCAL })).statusCode, 200);
  assert.deepEqual(keys, ['1', '2', '#']);
  assert.equal((await app.inject({ method: 'POST', url: '/api/sim/keys', payload: { keys: '1x' }, ...LOCAL })).statusCode, 400);
  assert.equal((await app.inject({ method: 'POST', url: '/api/sim/hook', payload: { offHook: 'yes' }, ...LOCAL })).statusCode, 400);
  assert.equal((await app.inject({ method: 'POST', url: '/api/sim/keys', payload: '{"keys":', headers: { 'content-type': 'application/json' }, ...LOCAL })).statusCode, 400);
  const state = (await app.inject({ method: 'GET', url: '/api/sim/state', ...LOCAL })).json();
  assert.deepEqual(Object.keys(state).sort(), ['display', 'leds', 'offHook', 'ringing', 'tone']);
});

test('the admin password has a minimum length and tokens are stored only as hashes', () => {
  const { credentials, dir } = setup();
  assert.throws(() => credentials.setPassword('short'), /8 to 256 characters/);
  const token = credentials.createToken();
  const file = JSON.stringify(new AdminCredentials(dir));
  assert.ok(!file.includes(token));
  assert.ok(new AdminCredentials(dir).verifyToken(token));
});

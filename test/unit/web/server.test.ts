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

test('the page is served with an ETag and answers 304 to a browser that has it', async () => {
  const { app } = setup();
  const first = await app.inject({ method: 'GET', url: '/', ...LOCAL });
  assert.equal(first.statusCode, 200);
  assert.equal(first.headers['content-type'], 'text/html');
  assert.equal(first.headers['cache-control'], 'no-cache');
  assert.match(first.body, /<h1>deskphone-agent 9\.9\.9<\/h1>/);
  const etag = first.headers.etag as string;
  assert.match(etag, /^"[\w-]+"$/);
  const again = await app.inject({ method: 'GET', url: '/', headers: { 'if-none-match': etag }, ...LOCAL });
  assert.equal(again.statusCode, 304);
  assert.equal(again.body, '');
  assert.equal(again.headers.etag, etag);
  assert.equal(again.headers['cache-control'], 'no-cache');
  assert.equal((await app.inject({ method: 'GET', url: '/', headers: { 'if-none-match': `W/"other", W/${etag}` }, ...LOCAL })).statusCode, 304, 'weak comparison, a list');
  assert.equal((await app.inject({ method: 'GET', url: '/', headers: { 'if-none-match': '"other"' }, ...LOCAL })).statusCode, 200);
  const head = await app.inject({ method: 'HEAD', url: '/', ...LOCAL });
  assert.equal(head.statusCode, 200);
  assert.equal(head.headers.etag, etag);
});

test('the settings list keeps its ETag until a setting changes, and is sent again after', async () => {
  const { app, registry } = setup();
  const list = async (headers: Record<string, string> = {}) => app.inject({ method: 'GET', url: '/api/registry', headers, ...LOCAL });
  const first = await list();
  assert.equal(first.headers['cache-control'], 'private, no-cache');
  assert.equal(first.headers['content-type'], 'application/json; charset=utf-8');
  const etag = first.headers.etag as string;
  assert.equal((await list()).headers.etag, etag, 'the same bytes while nothing changes');
  assert.equal((await list({ 'if-none-match': etag })).statusCode, 304);

  // Over HTTP, from this process and from another one (the CLI writes the file; reload() adopts it).
  assert.equal((await app.inject({ method: 'PUT', url: '/api/registry/nat.strategy', payload: { value: 'stun' }, ...LOCAL })).statusCode, 200);
  const changed = await list({ 'if-none-match': etag });
  assert.equal(changed.statusCode, 200);
  assert.notEqual(changed.headers.etag, etag);
  assert.equal((changed.json().settings as Array<{ key: string; value: unknown }>).find((s) => s.key === 'nat.strategy')?.value, 'stun');
  registry.set('nat.strategy', 'auto');
  assert.equal((await list()).headers.etag, etag, 'the same content has the same tag again');
  const other = Registry.open(registry.dataDir);
  other.set('accounts.home.user', 'alice');
  registry.reload();
  const withAccount = await list({ 'if-none-match': etag });
  assert.equal(withAccount.statusCode, 200);
  assert.ok((withAccount.json().settings as Array<{ key: string }>).some((s) => s.key === 'accounts.home.user'));
  for (const key of ['accounts.home.user', 'nat.strategy', 'sip.localPort']) {
    const one = (await app.inject({ method: 'GET', url: `/api/registry/${key}`, ...LOCAL })).json();
    assert.deepEqual((withAccount.json().settings as Array<{ key: string }>).find((s) => s.key === key), one, `${key} as GET /api/registry/${key} has it`);
  }
});

test('a conditional request is authorised first: no 304 without a token', async () => {
  const { app, credentials } = setup();
  const etag = (await app.inject({ method: 'GET', url: '/api/registry', ...LOCAL })).headers.etag as string;
  credentials.setPassword('correct horse battery');
  const res = await app.inject({ method: 'GET', url: '/api/registry', headers: { 'if-none-match': etag }, ...REMOTE });
  assert.equal(res.statusCode, 401);
  assert.equal(res.headers.etag, undefined);
});

test('logins that run at once count against the limit before their passwords are checked', async () => {
  const { app, credentials } = setup();
  credentials.setPassword('correct horse battery');
  const tries = await Promise.all(Array.from({ length: 8 }, (_, i) => app.inject({ method: 'POST', url: '/api/session', payload: { password: `guess${i}` }, remoteAddress: '198.51.100.11' })));
  assert.deepEqual(tries.map((r) => r.statusCode).sort(), [401, 401, 401, 401, 401, 429, 429, 429]);
  // A good password from another address still logs in, and the limit is per address.
  assert.equal((await app.inject({ method: 'POST', url: '/api/session', payload: { password: 'correct horse battery' }, remoteAddress: '198.51.100.12' })).statusCode, 201);
  assert.equal((await app.inject({ method: 'POST', url: '/api/session', payload: { password: 'correct horse battery' }, remoteAddress: '198.51.100.11' })).statusCode, 429);
});

test('successful logins do not use up the limit', async () => {
  const { app, credentials } = setup();
  credentials.setPassword('correct horse battery');
  const codes: number[] = [];
  for (let i = 0; i < 7; i++) codes.push((await app.inject({ method: 'POST', url: '/api/session', payload: { password: 'correct horse battery' }, remoteAddress: '198.51.100.13' })).statusCode);
  assert.deepEqual(codes, [201, 201, 201, 201, 201, 201, 201]);
  // Also when they run at once beside failing ones: two good and two bad leave two marks.
  const mixed = await Promise.all(Array.from({ length: 4 }, (_, i) => app.inject({ method: 'POST', url: '/api/session', payload: { password: i % 2 ? 'correct horse battery' : `guess${i}` }, remoteAddress: '198.51.100.14' })));
  assert.deepEqual(mixed.map((r) => r.statusCode), [401, 201, 401, 201]);
  const after: number[] = [];
  for (let i = 0; i < 4; i++) after.push((await app.inject({ method: 'POST', url: '/api/session', payload: { password: 'wrong' }, remoteAddress: '198.51.100.14' })).statusCode);
  assert.deepEqual(after, [401, 401, 401, 429]);
});

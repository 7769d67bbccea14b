// The real daemon and CLI as processes: start-up, status, shutdown, broken settings, secrets.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli } from '../helpers/cli.js';
import { getJson, startDaemon } from '../helpers/daemon-process.js';
import { tempDir } from '../helpers/tmp.js';

test('the daemon starts on the sim board, answers /api/status, and stops on SIGTERM within 5 s', async () => {
  const dir = tempDir();
  const d = await startDaemon(dir);
  const { status, body } = await getJson(`${d.url}api/status`);
  assert.equal(status, 200);
  const s = body as Record<string, unknown>;
  assert.equal(s['board'], 'sim');
  assert.equal(typeof s['uptimeS'], 'number');
  assert.deepEqual(s['calls'], []);
  const stopped = await d.stop('SIGTERM');
  assert.equal(stopped.code, 0);
  assert.ok(stopped.ms < 5000, `stopped in ${stopped.ms} ms`);
  const msgs = d.logs.map((l) => l['msg']);
  assert.ok(msgs.includes('stopping') && msgs.includes('stopped'));
  for (const l of d.logs) assert.equal(typeof l['level'], 'number', 'every log line is a JSON object with a level');
});

test('SIGINT stops the daemon too', async () => {
  const d = await startDaemon(tempDir());
  const stopped = await d.stop('SIGINT');
  assert.equal(stopped.code, 0);
  assert.ok(stopped.ms < 5000);
});

test('a settings file with a bad value does not stop the daemon: the key is reported and defaulted', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'settings.json'), JSON.stringify({ settings: { 'sip.localPort': -1, 'nat.strategy': 'stun', 'log.level': 'debug' } }));
  const d = await startDaemon(dir);
  const warn = d.logs.find((l) => typeof l['msg'] === 'string' && (l['msg'] as string).includes('sip.localPort'));
  assert.ok(warn, 'bad key reported in the log');
  assert.equal(warn['key'], 'sip.localPort');
  const port = await getJson(`${d.url}api/registry/sip.localPort`);
  assert.equal((port.body as { value: number }).value, 5060);
  const strategy = await getJson(`${d.url}api/registry/nat.strategy`);
  assert.equal((strategy.body as { value: string }).value, 'stun');
  const status = (await getJson(`${d.url}api/status`)).body as { problems: string[] };
  assert.ok(status.problems.some((p) => p.includes('sip.localPort')));
  await d.stop();
});

test('a change made with the CLI reaches the running daemon', async () => {
  const dir = tempDir();
  const d = await startDaemon(dir);
  assert.equal(cli(['registry', 'set', 'nat.strategy', 'upnp', '--data-dir', dir]).status, 0);
  const deadline = Date.now() + 3000;
  let seen = '';
  while (Date.now() < deadline) {
    seen = ((await getJson(`${d.url}api/registry/nat.strategy`)).body as { value: string }).value;
    if (seen === 'upnp') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(seen, 'upnp');
  while (Date.now() < deadline && !d.logs.some((l) => l['msg'] === 'setting changed' && l['key'] === 'nat.strategy')) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(d.logs.some((l) => l['msg'] === 'setting changed' && l['key'] === 'nat.strategy'), 'the change is logged');
  await d.stop();
});

test('registry CLI: a bad set is refused with a clear message and changes nothing', () => {
  const dir = tempDir();
  assert.equal(cli(['registry', 'set', 'sip.localPort', '5070', '--data-dir', dir]).status, 0);
  const before = readFileSync(join(dir, 'settings.json'), 'utf8');
  const r = cli(['registry', 'set', 'sip.localPort', 'eighty', '--data-dir', dir]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim(), 'error: invalid value "eighty" for sip.localPort: expected an integer from 1 to 65535');
  assert.equal(readFileSync(join(dir, 'settings.json'), 'utf8'), before);
  const unknown = cli(['registry', 'set', 'sip.localport', '5070', '--data-dir', dir]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown setting "sip.localport"; did you mean sip.localPort/);
  assert.equal(cli(['registry', 'get', 'sip.localPort', '--data-dir', dir]).stdout, '5070\n');
});

test('registry CLI: secrets are masked in get, list and export unless asked for', () => {
  const dir = tempDir();
  assert.equal(cli(['registry', 'set', 'accounts.home.password', 'Sup3rSecret!', '--data-dir', dir]).stdout, 'accounts.home.password = ********\n');
  assert.equal(statSync(join(dir, 'settings.json')).mode & 0o777, 0o600);
  assert.equal(cli(['registry', 'get', 'accounts.home.password', '--data-dir', dir]).stdout, '********\n');
  assert.equal(cli(['registry', 'get', 'accounts.home.password', '--show-secrets', '--data-dir', dir]).stdout, 'Sup3rSecret!\n');
  assert.ok(!cli(['registry', 'list', '--data-dir', dir]).stdout.includes('Sup3rSecret!'));
  assert.ok(!cli(['registry', 'export', '--data-dir', dir]).stdout.includes('Sup3rSecret!'));
  assert.ok(cli(['registry', 'export', '--include-secrets', '--data-dir', dir]).stdout.includes('Sup3rSecret!'));
});

test('registry CLI: export then import into a fresh phone reproduces the settings; a bad import changes nothing', () => {
  const a = tempDir();
  const b = tempDir();
  cli(['registry', 'set', 'nat.strategy', 'stun', '--data-dir', a]);
  cli(['registry', 'set', 'nat.stunServer', 'stun.example.net:3478', '--data-dir', a]);
  cli(['registry', 'set', 'accounts.office.registrar', 'sip:pbx.example.net', '--data-dir', a]);
  const exported = cli(['registry', 'export', '--data-dir', a]).stdout;
  const file = join(b, 'export.json');
  writeFileSync(file, exported);
  assert.equal(cli(['registry', 'import', file, '--data-dir', b]).status, 0);
  assert.equal(cli(['registry', 'get', 'accounts.office.registrar', '--data-dir', b]).stdout, 'sip:pbx.example.net\n');
  writeFileSync(file, JSON.stringify({ settings: { 'nat.strategy': 'none', 'sip.localPort': 'x' } }));
  const bad = cli(['registry', 'import', file, '--data-dir', b]);
  assert.equal(bad.status, 2);
  assert.equal(cli(['registry', 'get', 'nat.strategy', '--data-dir', b]).stdout, 'stun\n');
  const fromStdin = cli(['registry', 'import', '-', '--data-dir', b], '{"settings":{"nat.strategy":"none"}}');
  assert.equal(fromStdin.status, 0);
  assert.equal(cli(['registry', 'get', 'nat.strategy', '--data-dir', b]).stdout, 'none\n');
});

test('admin: set-password reads twice from stdin, token prints a token that opens the API', async () => {
  const dir = tempDir();
  assert.equal(cli(['admin', 'set-password', '--data-dir', dir], 'one-password\nother-password\n').status, 2);
  const set = cli(['admin', 'set-password', '--data-dir', dir], 'correct horse battery\ncorrect horse battery\n');
  assert.equal(set.status, 0, set.stderr);
  const token = cli(['admin', 'token', '--data-dir', dir]).stdout.trim();
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  const d = await startDaemon(dir);
  assert.equal((await getJson(`${d.url}api/status`)).status, 401);
  const ok = await getJson(`${d.url}api/status`, token);
  assert.equal(ok.status, 200);
  assert.equal((ok.body as { setupRequired: boolean }).setupRequired, false);
  const logText = JSON.stringify(d.logs);
  assert.ok(!logText.includes(token) && !logText.includes('correct horse'), 'no secrets in the log');
  await d.stop();
});

test('the sim phone: lifting the handset gives dial tone, dialling without an account gives congestion', async () => {
  const d = await startDaemon(tempDir());
  const post = async (path: string, body: unknown) => (await fetch(`${d.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<Record<string, unknown>>;
  assert.equal((await post('api/sim/hook', { offHook: true }))['tone'], 'dial');
  const after = await post('api/sim/keys', { keys: '5551234567' });
  assert.equal(after['tone'], 'congestion');
  assert.deepEqual(after['display'], ['No SIP account', 'Hang up']);
  const idle = await post('api/sim/hook', { offHook: false });
  assert.equal(idle['tone'], null);
  await d.stop();
});

test('the daemon answers SIP OPTIONS on its SIP port with its capabilities', async () => {
  const d = await startDaemon(tempDir());
  const ready = d.logs.find((l) => l['msg'] === 'deskphone-agent ready');
  const sipPort = Number(ready?.['sipPort']);
  assert.ok(sipPort > 0);
  const sock = createSocket('udp4');
  const reply = new Promise<string>((resolve) => sock.on('message', (m) => resolve(m.toString())));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const me = sock.address().port;
  sock.send([
    `OPTIONS sip:phone@127.0.0.1:${sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bKd1;rport`,
    'From: <sip:t@test>;tag=1', `To: <sip:phone@127.0.0.1:${sipPort}>`, 'Call-ID: daemon-options', 'CSeq: 1 OPTIONS', 'Max-Forwards: 70', 'Content-Length: 0', '', '',
  ].join('\r\n'), sipPort, '127.0.0.1');
  const text = await reply;
  sock.close();
  assert.match(text, /^SIP\/2\.0 200 OK\r\n/);
  assert.match(text, /\r\nAllow: INVITE, ACK, CANCEL, BYE, OPTIONS/);
  assert.match(text, /\r\nServer: deskphone-agent\/\d+\.\d+\.\d+\r\n/);
  const stopped = await d.stop();
  assert.equal(stopped.code, 0);
  assert.ok(stopped.ms < 5000);
});

// The whole daemon on the sim board, as a person uses it: an account in the registry registers
// at kamailio; lifting the handset and keying a number calls baresip through kamailio; baresip
// calling us rings the sim ringer and lifting the handset answers; the web API places a
// direct-IP call. Everything on 127.0.0.1.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cli } from '../helpers/cli.js';
import { startDaemon, type RunningDaemon } from '../helpers/daemon-process.js';
import { tempDir } from '../helpers/tmp.js';
import { startBaresip, type Baresip } from './lib/baresip.js';
import { startKamailio, type Kamailio } from './lib/kamailio.js';
import { stopAll, waitFor } from './lib/process.js';

const base = 47000 + Math.floor(Math.random() * 300) * 10;
let kam: Kamailio;
let bob: Baresip;
let daemon: RunningDaemon;
// Made here, not in before(): an after() registered inside a hook runs when the hook ends (Node 20).
const dir = tempDir('dpa-daemon-calls-');

interface SimState { ringing: boolean; tone: string | null; display: string[] }
interface Status {
  registrations: Array<{ account: string; state: string; contact: string | null }>;
  calls: Array<{ id: string; direction: string; state: string; rtp: { sent: number; received: number } }>;
}

async function api<T>(path: string, init?: { method: string; body?: unknown }): Promise<{ status: number; body: T }> {
  const res = await fetch(new URL(path, daemon.url), {
    method: init?.method ?? 'GET',
    ...(init?.body !== undefined ? { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}

const sim = async () => (await api<SimState>('/api/sim/state')).body;
const status = async () => (await api<Status>('/api/status')).body;

before(async () => {
  kam = await startKamailio({ address: '127.0.0.1', port: base, users: { '2000': 'phone-pw', '1001': 'bob-pw' } });
  bob = await startBaresip({
    address: '127.0.0.1', sipPort: base + 1, consPort: base + 50, rtpPorts: [base + 100, base + 199],
    account: `<sip:1001@lab.test>;outbound="sip:127.0.0.1:${base}";auth_pass=bob-pw;answermode=auto;audio_codecs=PCMU;regint=600`,
  });
  await bob.waitForLog(/200 OK.*binding/);
  for (const [k, v] of [
    ['accounts.main.registrar', 'sip:lab.test'], ['accounts.main.proxy', `sip:127.0.0.1:${base}`], ['accounts.main.user', '2000'],
    ['accounts.main.password', 'phone-pw'], ['rtp.portMax', String(base + 399)], ['rtp.portMin', String(base + 300)],
  ]) {
    const r = cli(['registry', 'set', k as string, v as string, '--data-dir', dir]);
    assert.equal(r.status, 0, r.stderr);
  }
  daemon = await startDaemon(dir, ['--sip-address', '127.0.0.1']);
});

after(async () => {
  await daemon?.stop();
  await kam?.stop();
  await stopAll();
});

test('the account from the registry registers at kamailio and /api/status shows it', async () => {
  await waitFor('registered', async () => (await status()).registrations[0]?.state === 'registered').catch((err: Error) => {
    throw new Error(`${err.message}; status ${JSON.stringify(daemon.logs.filter((l) => l['level'] !== 20).slice(-12).map((l) => `${String(l['msg'])} ${String(l['key'] ?? '')}=${JSON.stringify(l['value'] ?? '')}`))}`);
  });
  const reg = (await status()).registrations[0];
  assert.equal(reg?.account, 'main');
  assert.match(reg?.contact ?? '', /^<sip:2000@127\.0\.0\.1:\d+;ob>/);
});

test('lifting the handset and keying 1001# calls baresip: connected, RTP both ways, hang up by putting the handset down', async () => {
  await api('/api/sim/hook', { method: 'POST', body: { offHook: true } });
  assert.equal((await sim()).tone, 'dial');
  await api('/api/sim/keys', { method: 'POST', body: { keys: '1001#' } });
  await waitFor('connected', async () => (await status()).calls[0]?.state === 'connected');
  assert.deepEqual((await sim()).display.slice(0, 1), ['Connected']);
  await waitFor('RTP both ways', async () => {
    const c = (await status()).calls[0];
    return (c?.rtp.sent ?? 0) > 20 && (c?.rtp.received ?? 0) > 20;
  }, 5000);
  await api('/api/sim/hook', { method: 'POST', body: { offHook: false } });
  await waitFor('no call left', async () => (await status()).calls.length === 0);
  await bob.waitForLog(/terminated|session closed/i);
});

test('baresip calls the phone: the sim ringer rings, lifting the handset answers, the far end hangs up and we hear busy', async () => {
  await bob.command('/dial sip:2000@lab.test');
  await waitFor('ringing', async () => (await sim()).ringing);
  assert.equal((await status()).calls[0]?.direction, 'in');
  await api('/api/sim/hook', { method: 'POST', body: { offHook: true } });
  await waitFor('connected', async () => (await status()).calls[0]?.state === 'connected');
  assert.equal((await sim()).ringing, false);
  await bob.command('/hangup');
  await waitFor('busy tone after the far end hung up', async () => (await sim()).tone === 'busy');
  await api('/api/sim/hook', { method: 'POST', body: { offHook: false } });
  assert.equal((await sim()).tone, null);
});

test('the web API places a direct-IP call and hangs it up', async () => {
  const placed = await api<{ id: string }>('/api/calls', { method: 'POST', body: { target: `sip:1001@127.0.0.1:${base + 1}` } });
  assert.equal(placed.status, 201);
  await waitFor('connected', async () => (await status()).calls.find((c) => c.id === placed.body.id)?.state === 'connected');
  const bad = await api<{ error: string }>('/api/calls', { method: 'POST', body: { target: 42 } });
  assert.equal(bad.status, 400);
  assert.equal((await api('/api/calls/nope/answer', { method: 'POST' })).status, 404);
  assert.equal((await api(`/api/calls/${placed.body.id}`, { method: 'DELETE' })).status, 200);
  await waitFor('ended', async () => (await status()).calls.length === 0);
});

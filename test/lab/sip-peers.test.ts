// The SIP stack against real peers on loopback: SIPp as caller and callee (retransmissions with
// dropped packets, CANCEL and its race, 401 and 407 challenges) and kamailio as digest registrar.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Dialog } from '../../src/sip/dialog/index.js';
import { getContacts, getTo, makeResponse, parseUri, SipHeaders, type NameAddr, type SipRequest } from '../../src/sip/message/index.js';
import { DEFAULT_TIMERS } from '../../src/sip/transaction/index.js';
import { UserAgent, type IncomingInvite } from '../../src/sip/ua/index.js';
import { SystemClock } from '../../src/util/index.js';
import { startKamailio } from './lib/kamailio.js';
import { stopAll } from './lib/process.js';
import { startSipp } from './lib/sipp.js';

const clock = new SystemClock();
let ua: UserAgent;
let mode: 'answer' | 'ring' | 'race' = 'answer';

before(async () => {
  ua = new UserAgent({
    clock, addresses: ['127.0.0.1'], port: 0, transports: ['UDP', 'TCP'], timers: () => DEFAULT_TIMERS, userAgent: 'deskphone-agent-test',
    advertised: () => ({ host: '127.0.0.1', port: ua.port }),
    rateLimit: { ratePerS: 5000, burst: 5000 },
  });
  await ua.start();
  ua.setHandlers({
    onInvite: (inv: IncomingInvite) => answerInvite(inv),
    onDialogRequest: (dialog, req, tx) => {
      ua.answer(tx, makeResponse(req, 200));
      if (req.method === 'BYE') ua.removeDialog(dialog);
    },
  });
});

after(async () => {
  await ua.close();
  await stopAll();
});

const invitesSeen = new Map<string, number>();

function answerInvite({ request, transaction }: IncomingInvite): void {
  const callId = request.headers.get('Call-ID') ?? '';
  invitesSeen.set(callId, (invitesSeen.get(callId) ?? 0) + 1);
  const tag = ua.newTag();
  const ringing = makeResponse(request, 180);
  ringing.headers.set('To', `${request.headers.get('To')};tag=${tag}`);
  const contact = ua.contact('phone');
  ringing.headers.set('Contact', `<sip:phone@127.0.0.1:${ua.port}>`);
  ua.answer(transaction, ringing);
  if (mode === 'ring') return;
  const accept = () => {
    if (transaction.state !== 'proceeding') return;
    const ok = makeResponse(request, 200);
    ok.headers.set('To', `${request.headers.get('To')};tag=${tag}`);
    ok.headers.set('Contact', `<sip:phone@127.0.0.1:${ua.port}>`);
    ua.addDialog(Dialog.asUas(request, tag, contact, false));
    ua.accept(transaction, ok);
  };
  if (mode === 'race') accept();
  else setTimeout(accept, 30);
}

let nextPort = 25000 + (process.pid % 2000) * 4;
const port = () => nextPort++;

test('SIPp OPTIONS: 50 requests at 100/s are all answered 200 with Allow', async () => {
  const sipp = startSipp({ scenario: 'options-uac.xml', remote: `127.0.0.1:${ua.port}`, localPort: port(), calls: 50, ratePerS: 100, timeoutS: 20 });
  const r = await sipp.result();
  assert.equal(r.exitCode, 0, r.output);
  assert.equal(r.successful, 50);
});

test('SIPp calls the phone with 10% of packets dropped: every call completes, retransmissions happen', async () => {
  mode = 'answer';
  const sipp = startSipp({ scenario: 'invite-uac.xml', remote: `127.0.0.1:${ua.port}`, localPort: port(), calls: 20, ratePerS: 10, lostPercent: 10, timeoutS: 60 });
  const r = await sipp.result();
  assert.equal(r.exitCode, 0, r.output);
  assert.equal(r.successful, 20);
  assert.ok(r.retransmissions > 0, 'packets were lost and retransmitted');
  const twice = [...invitesSeen].filter(([, n]) => n > 1);
  assert.equal(ua.dialogCount, 0, `every dialog ended with BYE; INVITEs handled twice: ${JSON.stringify(twice)}\n${r.output.slice(0, 300)}`);
});

test('SIPp CANCELs while the phone rings: 200 to CANCEL, 487 to INVITE', async () => {
  mode = 'ring';
  const sipp = startSipp({ scenario: 'cancel-uac.xml', remote: `127.0.0.1:${ua.port}`, localPort: port(), calls: 5, ratePerS: 10, timeoutS: 30 });
  const r = await sipp.result();
  assert.equal(r.exitCode, 0, r.output);
  assert.equal(r.successful, 5);
});

test('CANCEL racing our 200: the CANCEL gets 200 and has no effect; the call goes on to BYE', async () => {
  mode = 'race';
  const sipp = startSipp({ scenario: 'cancel-race-uac.xml', remote: `127.0.0.1:${ua.port}`, localPort: port(), calls: 5, ratePerS: 10, timeoutS: 30 });
  const r = await sipp.result();
  assert.equal(r.exitCode, 0, r.output);
  assert.equal(r.successful, 5);
});

function inviteTo(target: string): SipRequest {
  const h = new SipHeaders();
  h.set('Max-Forwards', '70');
  h.set('From', `<sip:alice@lab.test>;tag=${ua.newTag()}`);
  h.set('To', `<${target}>`);
  h.set('Call-ID', ua.newCallId());
  h.set('CSeq', '1 INVITE');
  h.set('Contact', `<sip:alice@127.0.0.1:${ua.port}>`);
  h.set('Content-Length', '0');
  return { kind: 'request', method: 'INVITE', uri: parseUri(target), headers: h, body: new Uint8Array(0) };
}

for (const status of [401, 407] as const) {
  test(`our INVITE answers a ${status} challenge from SIPp (${status === 401 ? 'verified by SIPp' : 'checked for form'}), then hangs up`, async () => {
    const sippPort = port();
    const sipp = startSipp({ scenario: `uas-auth-${status}.xml`, localPort: sippPort, calls: 1, timeoutS: 20 });
    const dest = { transport: 'UDP', address: '127.0.0.1', port: sippPort, reliable: false };
    let result: Awaited<ReturnType<UserAgent['invite']>> | undefined;
    // SIPp needs a moment to bind; the INVITE's own retransmissions cover that.
    result = await ua.invite(inviteTo(`sip:bob@127.0.0.1:${sippPort}`), dest, { credentials: { username: 'alice', password: 's3cret' } });
    assert.equal(result.response.status, 200);
    const dialog = result.dialog as Dialog;
    assert.equal(getTo(result.response).params.get('tag')?.includes('SIPpTag01'), true);
    const bye = await ua.request(dialog.createRequest('BYE'), dest);
    assert.equal(bye.status, 200);
    ua.removeDialog(dialog);
    const r = await sipp.result();
    assert.equal(r.exitCode, 0, r.output);
  });
}

test('REGISTER with digest against kamailio: the binding is saved; a wrong password fails cleanly', async () => {
  const kamPort = port();
  const kam = await startKamailio({ address: '127.0.0.1', port: kamPort, users: { alice: 's3cret' } });
  const dest = { transport: 'UDP', address: '127.0.0.1', port: kamPort, reliable: false };
  const register = (expires: number): SipRequest => {
    const h = new SipHeaders();
    h.set('Max-Forwards', '70');
    h.set('From', `<sip:alice@lab.test>;tag=${ua.newTag()}`);
    h.set('To', '<sip:alice@lab.test>');
    h.set('Call-ID', ua.newCallId());
    h.set('CSeq', '1 REGISTER');
    h.set('Contact', `<sip:alice@127.0.0.1:${ua.port}>;expires=${expires}`);
    h.set('Content-Length', '0');
    return { kind: 'request', method: 'REGISTER', uri: parseUri('sip:lab.test'), headers: h, body: new Uint8Array(0) };
  };
  const t0 = performance.now();
  const ok = await ua.request(register(300), dest, { credentials: { username: 'alice', password: 's3cret' } });
  const ms = performance.now() - t0;
  assert.equal(ok.status, 200, `REGISTER: ${ok.status} ${ok.reason}`);
  const bound = getContacts(ok).filter((c): c is NameAddr => c !== '*');
  assert.equal(bound.length, 1);
  assert.equal(String((bound[0]?.uri as { host: string }).host), '127.0.0.1');
  assert.ok(Number(bound[0]?.params.get('expires')) > 0);
  console.log(`# REGISTER with digest to kamailio: ${ms.toFixed(1)} ms`);
  const bad = await ua.request(register(300), dest, { credentials: { username: 'alice', password: 'wrong' } });
  assert.equal(bad.status, 401, 'the wrong password ends with the last 401, not a loop');
  const unreg = await ua.request(register(0), dest, { credentials: { username: 'alice', password: 's3cret' } });
  assert.equal(unreg.status, 200);
  await kam.stop();
});

test('a 407 from kamailio is answered with Proxy-Authorization that kamailio verifies', async () => {
  const kamPort = port();
  const kam = await startKamailio({ address: '127.0.0.1', port: kamPort, users: { alice: 's3cret' }, inviteAuth: true });
  const dest = { transport: 'UDP', address: '127.0.0.1', port: kamPort, reliable: false };
  // Nobody is registered as bob: past authentication kamailio answers 404.
  const good = await ua.invite(inviteTo('sip:bob@lab.test'), dest, { credentials: { username: 'alice', password: 's3cret' } });
  assert.equal(good.response.status, 404, `${good.response.status} ${good.response.reason}`);
  const bad = await ua.invite(inviteTo('sip:bob@lab.test'), dest, { credentials: { username: 'alice', password: 'nope' } });
  assert.equal(bad.response.status, 407);
  await kam.stop();
});

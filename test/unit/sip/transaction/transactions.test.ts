import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getCSeq, makeResponse, parseMessage, serializeMessage, topVia, type SipRequest, type SipResponse } from '../../../../src/sip/message/index.js';
import {
  DEFAULT_TIMERS, InviteClientTransaction, InviteServerTransaction, NonInviteClientTransaction, NonInviteServerTransaction,
  TransactionLayer, type Peer, type ServerTransaction, type TxAction,
} from '../../../../src/sip/transaction/index.js';
import { FakeClock } from '../../../../src/util/index.js';

const msg = (lines: string[]) => parseMessage(Buffer.from(`${lines.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`));
const request = (method: string, branch = 'z9hG4bKabc', extra: string[] = []) => msg([
  `${method} sip:bob@198.51.100.20 SIP/2.0`,
  `Via: SIP/2.0/UDP 192.0.2.10:5060;branch=${branch}`,
  'From: <sip:alice@example.com>;tag=a1', 'To: <sip:bob@example.com>', 'Call-ID: c1', `CSeq: 1 ${method}`,
  'Max-Forwards: 70', 'Contact: <sip:alice@192.0.2.10>', ...extra,
]) as SipRequest;
const response = (req: SipRequest, status: number, toTag = 'b1'): SipResponse => {
  const r = makeResponse(req, status);
  r.headers.set('To', `<sip:bob@example.com>;tag=${toTag}`);
  return r;
};

/** Runs a pure machine on a fake timeline; records at which times it sent what. */
function drive(m: { start(): TxAction[]; timer(n: never): TxAction[] }, untilMs: number, at: Array<[number, (m: never) => TxAction[]]> = []) {
  const timers = new Map<string, number>();
  const sends: Array<[number, string]> = [];
  const events: Array<[number, string]> = [];
  let now = 0;
  const apply = (acts: TxAction[]) => {
    for (const a of acts) {
      if (a.kind === 'send') sends.push([now, a.message.kind === 'request' ? a.message.method : String(a.message.status)]);
      else if (a.kind === 'setTimer') timers.set(a.name, now + a.delayMs);
      else if (a.kind === 'clearTimer') timers.delete(a.name);
      else events.push([now, a.kind === 'response' ? `response ${a.response.status}` : a.kind]);
    }
  };
  apply(m.start());
  const script = [...at];
  for (;;) {
    const nextTimer = [...timers].sort((a, b) => a[1] - b[1])[0];
    const nextScript = script[0];
    if (nextScript && (!nextTimer || nextScript[0] <= nextTimer[1])) {
      now = nextScript[0];
      script.shift();
      apply(nextScript[1](m as never));
      continue;
    }
    if (!nextTimer || nextTimer[1] > untilMs) break;
    now = nextTimer[1];
    timers.delete(nextTimer[0]);
    apply(m.timer(nextTimer[0] as never));
  }
  return { sends, events };
}

test('INVITE client over UDP: Timer A retransmits at 0, 500, 1500, ... 31500 ms and Timer B gives up at 32 s', () => {
  const { sends, events } = drive(new InviteClientTransaction(request('INVITE'), DEFAULT_TIMERS, false), 60_000);
  assert.deepEqual(sends.map(([t]) => t), [0, 500, 1500, 3500, 7500, 15500, 31500]);
  assert.deepEqual(events, [[32000, 'timeout'], [32000, 'terminated']]);
});

test('INVITE client over TCP sends once; a 1xx stops retransmission; a 486 is ACKed with the To tag and ends after Timer D', () => {
  const inv = request('INVITE', 'z9hG4bKinv', ['Route: <sip:p1.example.com;lr>']);
  const m = new InviteClientTransaction(inv, DEFAULT_TIMERS, false);
  const acks: SipRequest[] = [];
  const { sends, events } = drive(m, 100_000, [
    [700, (x: InviteClientTransaction) => x.receive(response(inv, 180))],
    [5000, (x: InviteClientTransaction) => {
      const acts = x.receive(response(inv, 486));
      for (const a of acts) if (a.kind === 'send' && a.message.kind === 'request') acks.push(a.message);
      return acts;
    }],
    [6000, (x: InviteClientTransaction) => x.receive(response(inv, 486))],
  ]);
  assert.deepEqual(sends, [[0, 'INVITE'], [500, 'INVITE'], [5000, 'ACK'], [6000, 'ACK']]);
  assert.deepEqual(events, [[700, 'response 180'], [5000, 'response 486'], [37000, 'terminated']]);
  const ack = acks[0] as SipRequest;
  assert.equal(ack.headers.get('To'), '<sip:bob@example.com>;tag=b1');
  assert.equal(topVia(ack).params.get('branch'), 'z9hG4bKinv');
  assert.deepEqual(getCSeq(ack), { seq: 1, method: 'ACK' });
  assert.deepEqual(ack.headers.getAll('Route'), ['<sip:p1.example.com;lr>']);
  assert.equal(drive(new InviteClientTransaction(inv, DEFAULT_TIMERS, true), 60_000).sends.length, 1);
});

test('INVITE client: a 2xx goes to Accepted (RFC 6026); 2xx retransmissions reach the TU until Timer M', () => {
  const inv = request('INVITE');
  const { events, sends } = drive(new InviteClientTransaction(inv, DEFAULT_TIMERS, false), 100_000, [
    [100, (x: InviteClientTransaction) => x.receive(response(inv, 200))],
    [600, (x: InviteClientTransaction) => x.receive(response(inv, 200))],
    [700, (x: InviteClientTransaction) => x.receive(response(inv, 180))],
  ]);
  assert.deepEqual(sends, [[0, 'INVITE']], 'the transaction does not ACK a 2xx');
  assert.deepEqual(events, [[100, 'response 200'], [600, 'response 200'], [32100, 'terminated']]);
});

test('non-INVITE client: Timer E doubles to T2, then every T2 after a 1xx; Timer F ends at 32 s', () => {
  const trying = drive(new NonInviteClientTransaction(request('OPTIONS'), DEFAULT_TIMERS, false), 60_000);
  assert.deepEqual(trying.sends.map(([t]) => t), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.deepEqual(trying.events, [[32000, 'timeout'], [32000, 'terminated']]);
  const req = request('REGISTER');
  const proceeding = drive(new NonInviteClientTransaction(req, DEFAULT_TIMERS, false), 60_000, [
    [600, (x: NonInviteClientTransaction) => x.receive(response(req, 100))],
    [9000, (x: NonInviteClientTransaction) => x.receive(response(req, 200))],
    [9100, (x: NonInviteClientTransaction) => x.receive(response(req, 200))],
  ]);
  assert.deepEqual(proceeding.sends.map(([t]) => t), [0, 500, 1500, 5500]);
  assert.deepEqual(proceeding.events, [[600, 'response 100'], [9000, 'response 200'], [14000, 'terminated']]);
});

test('INVITE server: automatic 100 Trying at 200 ms, not when the TU answered first', () => {
  const inv = request('INVITE');
  assert.deepEqual(drive(new InviteServerTransaction(inv, DEFAULT_TIMERS, false), 1000).sends, [[200, '100']]);
  const quick = drive(new InviteServerTransaction(inv, DEFAULT_TIMERS, false), 1000, [[50, (x: InviteServerTransaction) => x.respond(response(inv, 180))]]);
  assert.deepEqual(quick.sends, [[50, '180']]);
});

test('INVITE server: a 486 is retransmitted by Timer G until the ACK; without ACK Timer H reports a timeout', () => {
  const inv = request('INVITE');
  const ack = request('ACK');
  const acked = drive(new InviteServerTransaction(inv, DEFAULT_TIMERS, false), 60_000, [
    [0, (x: InviteServerTransaction) => x.respond(response(inv, 486))],
    [2000, (x: InviteServerTransaction) => x.receive(ack)],
  ]);
  assert.deepEqual(acked.sends.map(([t]) => t), [0, 500, 1500]);
  assert.deepEqual(acked.events, [[7000, 'terminated']]);
  const lost = drive(new InviteServerTransaction(inv, DEFAULT_TIMERS, false), 60_000, [[0, (x: InviteServerTransaction) => x.respond(response(inv, 486))]]);
  assert.deepEqual(lost.sends.map(([t]) => t), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.deepEqual(lost.events, [[32000, 'timeout'], [32000, 'terminated']]);
});

test('INVITE server: retransmitted INVITEs get the last response; after a 2xx ACKs go to the TU until Timer L', () => {
  const inv = request('INVITE');
  const run = drive(new InviteServerTransaction(inv, DEFAULT_TIMERS, false), 60_000, [
    [10, (x: InviteServerTransaction) => x.respond(response(inv, 180))],
    [500, (x: InviteServerTransaction) => x.receive(inv)],
    [900, (x: InviteServerTransaction) => x.respond(response(inv, 200))],
    [1000, (x: InviteServerTransaction) => x.receive(inv)],
    [1100, (x: InviteServerTransaction) => x.receive(request('ACK'))],
  ]);
  assert.deepEqual(run.sends, [[10, '180'], [500, '180'], [900, '200']]);
  assert.deepEqual(run.events, [[1100, 'ack'], [32900, 'terminated']]);
  const done = new InviteServerTransaction(inv, DEFAULT_TIMERS, false);
  done.respond(response(inv, 404));
  assert.throws(() => done.respond(response(inv, 200)), /INVITE server transaction: sending 200 is not allowed in state completed/);
});

test('non-INVITE server: retransmissions are absorbed while trying and answered after; Timer J ends it', () => {
  const reg = request('REGISTER');
  const run = drive(new NonInviteServerTransaction(reg, DEFAULT_TIMERS, false), 60_000, [
    [100, (x: NonInviteServerTransaction) => x.receive(reg)],
    [200, (x: NonInviteServerTransaction) => x.respond(response(reg, 200))],
    [700, (x: NonInviteServerTransaction) => x.receive(reg)],
  ]);
  assert.deepEqual(run.sends, [[200, '200'], [700, '200']]);
  assert.deepEqual(run.events, [[32200, 'terminated']]);
});

function layer(answerAt?: (tx: ServerTransaction, r: SipRequest) => void) {
  const clock = new FakeClock();
  const sent: Array<SipRequest | SipResponse> = [];
  const requests: Array<[ServerTransaction, SipRequest]> = [];
  const stray: SipResponse[] = [];
  const acks: SipRequest[] = [];
  let failSends = false;
  const tl = new TransactionLayer({
    clock,
    timers: () => DEFAULT_TIMERS,
    send: (m) => {
      if (failSends) throw new Error('ECONNREFUSED');
      sent.push(parseMessage(serializeMessage(m)));
    },
    sendBytes: (bytes) => {
      sent.push(parseMessage(bytes));
    },
    sentBy: () => ({ host: '192.0.2.10', port: 5060 }),
    user: { onRequest: (tx, r) => { requests.push([tx, r]); answerAt?.(tx, r); }, onAck: (r) => acks.push(r), onStrayResponse: (r) => stray.push(r) },
  });
  return { clock, tl, sent, requests, stray, acks, failSends: (v: boolean) => (failSends = v) };
}

const PEER: Peer = { transport: 'UDP', address: '198.51.100.20', port: 5060, reliable: false };

test('the layer adds our Via with a new branch and matches responses by branch and CSeq method', () => {
  const { tl, sent, stray } = layer();
  const got: number[] = [];
  const req = request('OPTIONS');
  req.headers.delete('Via');
  tl.request(req, PEER, { onResponse: (r) => got.push(r.status), onTimeout: () => got.push(-1) });
  const out = sent[0] as SipRequest;
  const via = topVia(out);
  assert.equal(via.host, '192.0.2.10');
  assert.match(via.params.get('branch') ?? '', /^z9hG4bK.{12}$/);
  assert.equal(via.params.get('rport'), null);
  tl.receive(response(out, 200), PEER);
  const other = response(out, 200);
  other.headers.set('CSeq', '1 INVITE');
  tl.receive(other, PEER);
  assert.deepEqual(got, [200]);
  assert.equal(stray.length, 1, 'same branch, other method: not ours');
});

test('server matching: retransmissions and the ACK for a non-2xx stay in the transaction; CANCEL is its own', () => {
  const { tl, requests, sent, acks } = layer();
  const inv = request('INVITE', 'z9hG4bKserver1');
  tl.receive(inv, PEER);
  tl.receive(inv, PEER);
  assert.equal(requests.length, 1);
  const cancel = request('CANCEL', 'z9hG4bKserver1');
  cancel.headers.set('CSeq', '1 CANCEL');
  tl.receive(cancel, PEER);
  assert.equal(requests.length, 2);
  assert.equal(tl.findInviteFor(cancel), requests[0]?.[0]);
  requests[0]?.[0].respond(response(inv, 487));
  tl.receive(request('ACK', 'z9hG4bKserver1'), PEER);
  assert.equal(acks.length, 0, 'the ACK for a 487 is absorbed by the transaction');
  tl.receive(request('ACK', 'z9hG4bKother'), PEER);
  assert.equal(acks.length, 1, 'an ACK for a 2xx (new branch) goes to the TU');
  assert.deepEqual(sent.map((m) => (m.kind === 'response' ? m.status : m.method)), [487]);
});

test('RFC 2543 fallback: without a magic-cookie branch the ACK still matches its INVITE', () => {
  const { tl, requests, acks } = layer();
  const inv = request('INVITE', 'old2543');
  tl.receive(inv, PEER);
  requests[0]?.[0].respond(response(inv, 404));
  const ack = request('ACK', 'old2543');
  ack.headers.set('To', '<sip:bob@example.com>;tag=b1');
  tl.receive(ack, PEER);
  assert.equal(acks.length, 0);
  assert.equal(requests[0]?.[0].state, 'confirmed');
});

test('terminated transactions are removed, and a transport error is reported as such', () => {
  const { tl, clock, requests, failSends } = layer();
  const reg = request('REGISTER', 'z9hG4bKreg');
  tl.receive(reg, PEER);
  requests[0]?.[0].respond(response(reg, 200));
  assert.deepEqual(tl.counts, { client: 0, server: 1 });
  clock.advance(32_000);
  assert.deepEqual(tl.counts, { client: 0, server: 0 });
  failSends(true);
  const why: string[] = [];
  tl.request(request('OPTIONS'), PEER, { onResponse: () => {}, onTimeout: (r) => why.push(r) });
  assert.deepEqual(why, ['transport-error']);
  assert.deepEqual(tl.counts, { client: 0, server: 0 });
  assert.equal(clock.pending, 0, 'no timers left behind');
});

test('a request the TU never answers is dropped after 64*T1, so floods cannot grow memory', () => {
  const { tl, clock } = layer();
  for (let i = 0; i < 100; i++) tl.receive(request('OPTIONS', `z9hG4bKflood${i}`), PEER);
  assert.equal(tl.counts.server, 100);
  clock.advance(32_000);
  assert.equal(tl.counts.server, 0);
});

test('requests the TU answers while it handles them are matched as well: the non-INVITE from the compact store, the INVITE by its transaction', () => {
  const { tl, clock, requests, sent, acks } = layer((tx, r) => tx.respond(response(r, r.method === 'INVITE' ? 486 : 200)));
  const opt = request('OPTIONS', 'z9hG4bKatonce');
  tl.receive(opt, PEER);
  assert.deepEqual(tl.counts, { client: 0, server: 1 });
  tl.receive(opt, PEER);
  const inv = request('INVITE', 'z9hG4bKbusy');
  tl.receive(inv, PEER);
  assert.equal(requests[1]?.[0].state, 'completed', 'the INVITE waits for its ACK');
  tl.receive(inv, PEER);
  assert.deepEqual(sent.map((m) => (m.kind === 'response' ? m.status : 0)), [200, 200, 486, 486]);
  assert.equal(requests.length, 2, 'retransmissions do not reach the TU');
  const ack = request('ACK', 'z9hG4bKbusy');
  ack.headers.set('To', '<sip:bob@example.com>;tag=b1');
  tl.receive(ack, PEER);
  assert.equal(acks.length, 0, 'the ACK for a non-2xx is absorbed by its transaction');
  assert.equal(requests[1]?.[0].state, 'confirmed');
  clock.advance(40_000);
  assert.deepEqual(tl.counts, { client: 0, server: 0 });
  assert.equal(clock.pending, 0, 'no timers left behind');
});

test('a request the TU answers only with a provisional response is still dropped after 64*T1', () => {
  const { tl, clock } = layer((tx, r) => tx.respond(response(r, 100)));
  tl.receive(request('REGISTER', 'z9hG4bKslow'), PEER);
  assert.equal(tl.counts.server, 1);
  clock.advance(32_000);
  assert.equal(tl.counts.server, 0);
});

test('completed non-INVITE transactions over UDP answer retransmissions until Timer J, in compact form', () => {
  const { tl, clock, requests, sent } = layer();
  const reg = request('REGISTER', 'z9hG4bKcompact');
  tl.receive(reg, PEER);
  requests[0]?.[0].respond(response(reg, 200));
  assert.equal(requests[0]?.[0].terminated, true, 'the runner is retired');
  assert.equal(tl.counts.server, 1);
  clock.advance(10_000);
  tl.receive(reg, PEER);
  assert.deepEqual(sent.map((m) => (m.kind === 'response' ? m.status : 0)), [200, 200]);
  assert.equal(requests.length, 1, 'the retransmission does not reach the TU');
  clock.advance(23_000);
  assert.equal(tl.counts.server, 0);
  tl.receive(reg, PEER);
  assert.equal(requests.length, 2, 'after Timer J the same request is new again');
});

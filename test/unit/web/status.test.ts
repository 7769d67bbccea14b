// GET /api/status lists every call that has not ended with its codec and current quality
// (jitter, loss, RTT, E-model R and MOS), read from the session's media at request time.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { SimHardware, loadBoard } from '../../../src/hal/index.js';
import { LocalPortManager } from '../../../src/nat/index.js';
import { SessionMedia } from '../../../src/rtc/session-media.js';
import { Registry } from '../../../src/registry/index.js';
import { FakeClock } from '../../../src/util/index.js';
import { AdminCredentials, buildServer, callsStatus, type CallView, type Status } from '../../../src/web/index.js';
import { REPO_ROOT } from '../../helpers/paths.js';
import { tempDir } from '../../helpers/tmp.js';

/** A session's media as the status reads it, with quality that changes between requests. */
function media(codec: string, quality: { jitterMs: number; lossPercent: number; rttMs: number | undefined; r: number; mos: number } | undefined) {
  const state = { quality, sent: 250, received: 248, lost: 2 };
  return {
    state,
    view: {
      negotiated: { codec: { name: codec }, remoteAddress: '192.0.2.7', remoteRtpPort: 40002 },
      get counters() {
        return { sent: state.sent, received: state.received, lost: state.lost };
      },
      jitterMs: 3.14159,
      qualityReport: () => state.quality,
    },
  };
}

test('callsStatus: codec, path, packet counts and quality of each live call; ended calls and calls without media', () => {
  const g722 = media('G722', { jitterMs: 3.14159, lossPercent: 0.8064, rttMs: 41.27, r: 88.456, mos: 4.2871 });
  const opus = media('opus', { jitterMs: 0, lossPercent: 0, rttMs: undefined, r: 82.1, mos: 4.1 });
  const calls: CallView[] = [
    { id: 'c1', direction: 'out', state: 'connected', peer: 'sip:bob@192.0.2.7', media: g722.view },
    { id: 'c2', direction: 'in', state: 'early', peer: 'sip:carol@192.0.2.8', media: opus.view },
    { id: 'c3', direction: 'in', state: 'incoming', peer: 'sip:dave@192.0.2.9' },
    { id: 'c4', direction: 'out', state: 'ended', peer: 'sip:eve@192.0.2.10', media: g722.view },
  ];
  const status = callsStatus(calls);
  assert.deepEqual(status, [
    {
      id: 'c1', direction: 'out', state: 'connected', peer: 'sip:bob@192.0.2.7', codec: 'G722', path: '192.0.2.7:40002',
      rtp: { sent: 250, received: 248, lost: 2, jitterMs: 3.1 },
      quality: { jitterMs: 3.1, lossPercent: 0.8, rttMs: 41.3, r: 88.5, mos: 4.29 },
    },
    {
      id: 'c2', direction: 'in', state: 'early', peer: 'sip:carol@192.0.2.8', codec: 'opus', path: '192.0.2.7:40002',
      rtp: { sent: 250, received: 248, lost: 2, jitterMs: 3.1 },
      quality: { jitterMs: 0, lossPercent: 0, rttMs: null, r: 82.1, mos: 4.1 },
    },
    {
      id: 'c3', direction: 'in', state: 'incoming', peer: 'sip:dave@192.0.2.9', codec: null, path: null,
      rtp: { sent: 0, received: 0, lost: 0, jitterMs: 0 }, quality: null,
    },
  ]);
  assert.equal(callsStatus([{ ...calls[0] as CallView, media: media('PCMU', undefined).view }])[0]?.quality, null, 'no quality before the audio runs');
});

test('GET /api/status shows each call\'s codec and its quality as of the request', async () => {
  const dir = tempDir();
  const g722 = media('G722', { jitterMs: 1, lossPercent: 0, rttMs: 20, r: 92, mos: 4.4 });
  const calls: CallView[] = [{ id: 'c1', direction: 'out', state: 'connected', peer: 'sip:bob@192.0.2.7', media: g722.view }];
  const app = buildServer({
    registry: Registry.open(dir), credentials: new AdminCredentials(dir), hardware: new SimHardware(loadBoard(join(REPO_ROOT, 'board'), 'sim')),
    status: {
      registrations: () => [], nat: () => ({ strategy: 'auto', natType: null, publicAddress: null, mappings: [] }),
      calls: () => callsStatus(calls), phoneState: () => 'in-call', problems: () => [],
    },
    clock: new FakeClock(), version: '9.9.9', board: 'sim', startedAtMs: 0, logger: pino({ level: 'silent' }),
  });
  try {
    const first = (await app.inject({ method: 'GET', url: '/api/status', remoteAddress: '127.0.0.1' })).json<Status>();
    assert.equal(first.calls.length, 1);
    assert.equal(first.calls[0]?.codec, 'G722');
    assert.deepEqual(first.calls[0]?.quality, { jitterMs: 1, lossPercent: 0, rttMs: 20, r: 92, mos: 4.4 });
    g722.state.quality = { jitterMs: 12.34, lossPercent: 5.55, rttMs: 180, r: 61.2, mos: 3.14 };
    const later = (await app.inject({ method: 'GET', url: '/api/status', remoteAddress: '127.0.0.1' })).json<Status>();
    assert.deepEqual(later.calls[0]?.quality, { jitterMs: 12.3, lossPercent: 5.6, rttMs: 180, r: 61.2, mos: 3.14 });
  } finally {
    await app.close();
  }
});

test('GET /api/status reads a real call\'s media: G.722 between two SessionMedia on 127.0.0.1', async (t) => {
  const dir = tempDir();
  // The media clock moves 10 ms at a time with a real pause for the datagrams: a busy machine slows the test, not the audio.
  const clock = new FakeClock(1_000_000);
  const open = async (codecs: string[], tone: number) => {
    const m = await SessionMedia.open({
      clock, portManager: new LocalPortManager(() => '127.0.0.1'),
      settings: () => ({ localAddress: '127.0.0.1', portMin: 30000, portMax: 39998, ptimeMs: 20, codecs, capture: `tone:${tone}` }),
    });
    t.after(() => m.close());
    return m;
  };
  const ours = await open(['G722', 'PCMU'], 1000);
  const theirs = await open(['PCMU', 'G722'], 600);
  const answer = ours.answerOffer(new TextEncoder().encode(theirs.createOffer()));
  theirs.acceptAnswer(new TextEncoder().encode(answer.sdp), true);
  ours.start();
  theirs.start();
  const calls: CallView[] = [{ id: 'c7', direction: 'in', state: 'connected', peer: 'sip:bob@127.0.0.1', media: ours }];
  const app = buildServer({
    registry: Registry.open(dir), credentials: new AdminCredentials(dir), hardware: new SimHardware(loadBoard(join(REPO_ROOT, 'board'), 'sim')),
    status: {
      registrations: () => [], nat: () => ({ strategy: 'none', natType: null, publicAddress: null, mappings: [] }),
      calls: () => callsStatus(calls), phoneState: () => 'in-call', problems: () => [],
    },
    clock: new FakeClock(), version: '9.9.9', board: 'sim', startedAtMs: 0, logger: pino({ level: 'silent' }),
  });
  t.after(() => app.close());
  for (let ms = 0; ours.counters.received < 50 && ms < 5000; ms += 10) {
    clock.advance(10);
    await new Promise((r) => setTimeout(r, 2));
  }
  const call = (await app.inject({ method: 'GET', url: '/api/status', remoteAddress: '127.0.0.1' })).json<Status>().calls[0];
  assert.equal(call?.codec, 'G722', 'our order wins as the answerer');
  assert.equal(call?.path, `127.0.0.1:${theirs.mapping.port}`);
  assert.ok((call?.rtp.received ?? 0) >= 50, `received ${call?.rtp.received}`);
  assert.ok(call?.quality, 'quality once the audio runs');
  assert.equal(call.quality.lossPercent, 0);
  assert.ok(call.quality.jitterMs < 30, `jitter ${call.quality.jitterMs} ms on loopback`);
  assert.equal(call.quality.rttMs, null, 'no RTCP round trip in the first 2.5 s');
  assert.ok(call.quality.mos > 4 && call.quality.mos <= 4.5, `MOS ${call.quality.mos}`);
});

// A call's media between two SessionMedia on 127.0.0.1: the offer follows media.codecs (filtered
// to what we encode), the answer picks the answerer's first codec the offer has, and the
// negotiated codec runs end to end on real sockets — devices at its rate, a tone each way in the
// recordings, DTMF, and the quality event from the first RTCP report. The media clock is a fake
// one moved 10 ms at a time with a real pause between steps for the datagrams, so a busy machine
// slows the test down instead of starving the audio.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { decodeWav, goertzelAmplitude, type AudioQualityReport } from '../../../src/media/index.js';
import { LocalPortManager } from '../../../src/nat/index.js';
import { SessionMedia, type MediaSettings } from '../../../src/rtc/session-media.js';
import { parseSessionDescription } from '../../../src/sdp/index.js';
import { FakeClock } from '../../../src/util/index.js';
import { tempDir } from '../../helpers/tmp.js';

const HOST = '127.0.0.1';

const clock = new FakeClock(1_000_000);

async function open(t: TestContext, settings: Omit<MediaSettings, 'localAddress' | 'portMin' | 'portMax' | 'ptimeMs'>): Promise<SessionMedia> {
  const media = await SessionMedia.open({
    clock, portManager: new LocalPortManager(() => HOST),
    settings: () => ({ localAddress: HOST, portMin: 30000, portMax: 39998, ptimeMs: 20, ...settings }),
  });
  t.after(() => media.close());
  media.events.on('error', (e) => assert.fail(`${e.context}: ${String(e.error)}`));
  return media;
}

/** Moves the media clock 10 ms at a time until `ok` or `timeoutMs` of media time, letting the sockets deliver in between. */
const until = async (what: string, ok: () => boolean, timeoutMs = 5000): Promise<void> => {
  for (let waited = 0; !ok(); waited += 10) {
    if (waited >= timeoutMs) assert.fail(`timed out waiting for ${what}`);
    clock.advance(10);
    await new Promise((r) => setTimeout(r, 2));
  }
};

test('the offer lists media.codecs in order, unknown names dropped, with telephone-event at 8000 and 48000 Hz', async (t) => {
  const a = await open(t, { codecs: ['G722', 'iLBC', 'opus', 'PCMA'] });
  const offer = parseSessionDescription(a.createOffer());
  assert.deepEqual(offer.audio.codecs.map((c) => c.name), ['G722', 'opus', 'PCMA']);
  assert.deepEqual(offer.audio.telephoneEvents.map((e) => e.clockRateHz), [8000, 48000]);
});

for (const [codec, rateHz] of [['G722', 16000], ['opus', 16000], ['PCMA', 8000]] as const) {
  test(`${codec} negotiated by the answerer's order runs both ways on real sockets, devices at ${rateHz / 1000} kHz`, async (t) => {
    const dir = tempDir();
    const a = await open(t, { codecs: ['PCMU', 'PCMA', 'G722', 'opus'], capture: 'tone:1000', playback: `file:${join(dir, 'a.wav')}` });
    const b = await open(t, { codecs: [codec, 'PCMU'], capture: 'tone:600', playback: `file:${join(dir, 'b.wav')}` });
    const answer = b.answerOffer(new TextEncoder().encode(a.createOffer()));
    assert.equal(answer.negotiated.codec.name, codec);
    assert.equal(a.acceptAnswer(new TextEncoder().encode(answer.sdp), true).codec.name, codec);
    const quality: AudioQualityReport[] = [];
    a.events.on('quality', (q) => quality.push(q));
    const digits: string[] = [];
    b.events.on('dtmf', (e) => digits.push(e.digit));
    a.start();
    b.start();
    await until('a second of audio each way', () => a.counters.received >= 50 && b.counters.received >= 50);
    a.sendDtmf('7#');
    await until('the quality event of the first RTCP report', () => quality.length > 0, 5000);
    assert.equal(quality[0]?.codec, codec);
    // Real time on a shared machine: late packets can cost MOS here, so only the range is checked
    // (the fake-clock pipeline tests pin the values).
    const q = quality[0];
    assert.ok(q && q.mos >= 1 && q.mos <= 4.5 && q.lossPercent >= 0 && q.jitterMs >= 0, `quality ${JSON.stringify(q)}`);
    assert.deepEqual(digits, ['7', '#']);
    assert.equal(a.qualityReport()?.codec, codec);
    const stats = JSON.stringify([a.audioStats, b.audioStats].map((x) => ({ ...x, send: x?.send, receive: { ...x?.receive, jitterBuffer: x?.receive.jitterBuffer } })));
    await Promise.all([a.close(), b.close()]);
    for (const [file, want, not] of [['a.wav', 600, 1000], ['b.wav', 1000, 600]] as const) {
      const wav = decodeWav(readFileSync(join(dir, file)));
      assert.equal(wav.sampleRateHz, rateHz, `${file} plays at the codec's rate`);
      const steady = wav.samples.subarray(rateHz / 2, wav.samples.length - rateHz / 2);
      const heard = goertzelAmplitude(steady, want, rateHz);
      assert.ok(heard > 3000 && goertzelAmplitude(steady, not, rateHz) < heard / 20, `${file}: ${want} Hz at ${heard.toFixed(0)}; ${stats}`);
    }
  });
}

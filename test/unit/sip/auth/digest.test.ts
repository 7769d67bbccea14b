import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { DigestChallengeState, DigestError, chooseChallenge, computeAuthorization, digestHash, parseAuthParams } from '../../../../src/sip/auth/index.js';

const field = (auth: string, name: string) => new RegExp(`${name}=("([^"]*)"|[^,\\s]+)`).exec(auth)?.[2] ?? new RegExp(`${name}=([^,\\s]+)`).exec(auth)?.[1];

test('RFC 2617 §3.5: MD5 with qop=auth (Mufasa)', () => {
  const ch = chooseChallenge(['Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"']);
  const auth = computeAuthorization(ch, { username: 'Mufasa', password: 'Circle Of Life' }, { method: 'GET', uri: '/dir/index.html' }, { nc: 1, cnonce: '0a4f113b' });
  assert.equal(field(auth, 'response'), '6629fae49393a05397450978507c4ef1');
  assert.equal(field(auth, 'nc'), '00000001');
  assert.equal(field(auth, 'opaque'), '5ccc069c403ebaf9f0171e9517f40e41');
});

const RFC7616_CHALLENGES = [
  'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
];
const REQ = { method: 'GET', uri: '/dir/index.html' };
const CNONCE = 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';

test('RFC 7616 §3.9.1: MD5 and SHA-256; the stronger one is chosen when both are offered', () => {
  const md5 = chooseChallenge(RFC7616_CHALLENGES);
  assert.equal(field(computeAuthorization(md5, { username: 'Mufasa', password: 'Circle of Life' }, REQ, { nc: 1, cnonce: CNONCE }), 'response'), '8ca523f5e9506fed4657c9700eebdbec');
  const both = chooseChallenge([...RFC7616_CHALLENGES, RFC7616_CHALLENGES[0]?.replace('algorithm=MD5', 'algorithm=SHA-256') ?? '']);
  assert.equal(both.algorithm, 'SHA-256');
  const auth = computeAuthorization(both, { username: 'Mufasa', password: 'Circle of Life' }, REQ, { nc: 1, cnonce: CNONCE });
  assert.equal(field(auth, 'response'), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  assert.equal(field(auth, 'algorithm'), 'SHA-256');
});

test('SHA-512-256 is FIPS 180-4 SHA-512/256 (NIST "abc" vector)', () => {
  assert.equal(digestHash('SHA-512-256', 'abc'), '53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23');
});

test('RFC 7616 §3.9.2 (userhash, UTF-8 user name): the published values are SHA-512 cut to 256 bits; ours use real SHA-512/256', () => {
  const ch = chooseChallenge(['Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", charset=UTF-8, userhash=true']);
  const user = 'J\u00e4s\u00f8n Doe';
  const cnonce = 'NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v';
  const auth = computeAuthorization(ch, { username: user, password: 'Secret, or not?' }, { method: 'GET', uri: '/doe.json' }, { nc: 1, cnonce });
  // The RFC example, recomputed with truncated SHA-512, reproduces the published numbers exactly:
  const t = (d: string) => createHash('sha512').update(d).digest('hex').slice(0, 64);
  assert.equal(t(`${user}:api@example.org`), '488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec');
  const ha1 = t(`${user}:api@example.org:Secret, or not?`);
  assert.equal(t(`${ha1}:5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK:00000001:${cnonce}:auth:${t('GET:/doe.json')}`), 'ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd');
  // ...and the same steps with SHA-512/256 are what we send.
  const h = (d: string) => digestHash('SHA-512-256', d);
  assert.equal(field(auth, 'username'), h(`${user}:api@example.org`));
  const ha1b = h(`${user}:api@example.org:Secret, or not?`);
  assert.equal(field(auth, 'response'), h(`${ha1b}:5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK:00000001:${cnonce}:auth:${h('GET:/doe.json')}`));
  assert.match(auth, /userhash=true/);
});

test('challenge parsing: escapes in quoted strings, several challenges in one header, hostile input', () => {
  const [c] = parseAuthParams('Digest realm="a \\"quoted\\" realm", nonce=abc, algorithm=MD5');
  assert.equal(c?.params.get('realm'), 'a "quoted" realm');
  assert.equal(parseAuthParams('Digest realm="r", nonce="1", Digest realm="r", nonce="2", algorithm=SHA-256').length, 2);
  for (const bad of ['Digest realm="unterminated', 'Digest realm="r", realm="s", nonce=1', `Digest ${'a=1, '.repeat(40)}`, `Digest realm="${'x'.repeat(5000)}"`, 'realm=x']) {
    assert.throws(() => parseAuthParams(bad), DigestError, bad);
  }
  assert.throws(() => chooseChallenge(['Digest realm="r"']), /realm and nonce are required/);
  assert.throws(() => chooseChallenge(['Digest realm="r", nonce="n", algorithm=SHA-1']), (e: unknown) => e instanceof DigestError && e.code === 'unsupported');
  assert.throws(() => chooseChallenge(['Basic realm="r"']), /no Digest challenge/);
});

test('no qop: the RFC 2069 response, without nc and cnonce', () => {
  const ch = chooseChallenge(['Digest realm="r", nonce="n"']);
  const auth = computeAuthorization(ch, { username: 'u', password: 'p' }, { method: 'REGISTER', uri: 'sip:example.com' }, { nc: 1 });
  assert.ok(!auth.includes('nc=') && !auth.includes('cnonce='));
  assert.match(auth, /^Digest username="u", realm="r", nonce="n", uri="sip:example.com", response="[0-9a-f]{32}", algorithm=MD5$/);
});

test('auth-int hashes the body; -sess algorithms mix in nonce and cnonce', () => {
  const ch = chooseChallenge(['Digest realm="r", nonce="n", qop="auth-int", algorithm=MD5-sess']);
  const a = computeAuthorization(ch, { username: 'u', password: 'p' }, { method: 'INVITE', uri: 'sip:b@h', body: Buffer.from('v=0') }, { nc: 1, cnonce: 'c' });
  const b = computeAuthorization(ch, { username: 'u', password: 'p' }, { method: 'INVITE', uri: 'sip:b@h', body: Buffer.from('v=1') }, { nc: 1, cnonce: 'c' });
  assert.notEqual(field(a, 'response'), field(b, 'response'));
  assert.equal(field(a, 'qop'), 'auth-int');
});

test('the challenge state: retry once, fail on the same nonce, stale=true retries without counting, nc increases', () => {
  const st = new DigestChallengeState({ username: 'u', password: 'p' }, 3, () => 'c');
  const req = { method: 'REGISTER', uri: 'sip:example.com' };
  const first = st.onChallenge(401, ['Digest realm="r", nonce="n1", qop=auth'], req);
  assert.equal(first.kind, 'retry');
  assert.equal(first.kind === 'retry' && first.header, 'Authorization');
  assert.equal(first.kind === 'retry' && field(first.value, 'nc'), '00000001');
  const pre = st.preemptive(req);
  assert.equal(pre && field(pre.value, 'nc'), '00000002');
  const stale = st.onChallenge(401, ['Digest realm="r", nonce="n2", qop=auth, stale=true'], req);
  assert.equal(stale.kind, 'retry');
  const wrong = st.onChallenge(401, ['Digest realm="r", nonce="n2", qop=auth'], req);
  assert.equal(wrong.kind, 'fail');
  assert.equal(wrong.kind === 'fail' && wrong.error.code, 'wrong-credentials');
  const proxy = new DigestChallengeState({ username: 'u', password: 'p' }).onChallenge(407, ['Digest realm="r", nonce="x"'], req);
  assert.equal(proxy.kind === 'retry' && proxy.header, 'Proxy-Authorization');
});

test('a server that changes the nonce on every failure is given up on after the retry budget', () => {
  const st = new DigestChallengeState({ username: 'u', password: 'p' }, 3);
  const req = { method: 'REGISTER', uri: 'sip:example.com' };
  const kinds = [1, 2, 3, 4].map((i) => st.onChallenge(401, [`Digest realm="r", nonce="n${i}"`], req).kind);
  assert.deepEqual(kinds, ['retry', 'retry', 'retry', 'fail']);
});

// NAT behaviour discovery against real NATs: one nftables router per RFC 3489 class (LAB-NOTES.md),
// coturn with two addresses on the "public" side, and a phone behind each router. Our verdict must
// be the class the router was built as AND agree with coturn's own turnutils_natdiscovery, run in
// the same phone namespace from the phone's second address. Times to verdict are printed as `# `.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { classifyNatType, type FilteringBehaviour, type MappingBehaviour, type NatType } from '../../src/nat/nat-behaviour-decision.js';
import type { NatDiscoveryResult } from '../../src/nat/nat-behaviour-discovery.js';
import { NatLab, type NatLabPhone } from './lib/nat-lab.js';
import { nsExec } from './lib/netns.js';
import { CLI } from '../helpers/paths.js';


const lab = new NatLab([
  { kind: 'full-cone' },
  { kind: 'restricted-cone' },
  { kind: 'port-restricted-cone' },
  { kind: 'symmetric' },
  { kind: 'udp-blocked' },
  { kind: 'port-restricted-cone', key: 'short-lived', udpTimeoutS: 4 },
]);

before(() => lab.build(), { timeout: 30_000 });
after(() => lab.cleanup());

interface Timed<T> {
  readonly value: T;
  readonly wallMs: number;
}

async function ours(phone: NatLabPhone, extra: readonly string[] = []): Promise<Timed<NatDiscoveryResult>> {
  const stun = `${lab.stun.primary.address}:${lab.stun.primary.port}`;
  // The real command, as a person runs it on the phone: deskphone-agent nat-test --json.
  const r = await nsExec(phone.ns, process.execPath, [CLI, 'nat-test', '--stun', stun, '--bind', phone.addresses[0], '--json', ...extra], { timeoutMs: 30_000, allowFailure: true });
  assert.equal(r.code, 0, `deskphone-agent nat-test in ${phone.ns}: ${r.stdout}${r.stderr}`);
  return { value: JSON.parse(r.stdout) as NatDiscoveryResult, wallMs: r.elapsedMs };
}

interface TurnutilsVerdict {
  readonly noNat: boolean;
  readonly mapping: MappingBehaviour | null;
  readonly filtering: FilteringBehaviour | null;
  readonly natType: NatType | null;
  readonly output: string;
}

const BEHAVIOUR: Readonly<Record<string, MappingBehaviour & FilteringBehaviour>> = {
  'Endpoint Independent': 'endpoint-independent',
  'Address Dependent': 'address-dependent',
  'Address and Port Dependent': 'address-and-port-dependent',
};

/** Reads coturn 4.6's verdict lines ("NAT with Address Dependent Filtering!", "No NAT! ..."). */
function parseTurnutils(output: string): TurnutilsVerdict {
  const pick = (what: string): (MappingBehaviour & FilteringBehaviour) | null => {
    const m = new RegExp(`^NAT with (.+) ${what}!$`, 'm').exec(output);
    return m?.[1] ? (BEHAVIOUR[m[1]] ?? null) : null;
  };
  const noNat = /^No NAT!/m.test(output);
  const mapping = noNat ? 'endpoint-independent' : pick('Mapping');
  const filtering = pick('Filtering');
  let natType: NatType | null = null;
  if (noNat) natType = 'open';
  else if (mapping && (filtering || mapping !== 'endpoint-independent')) natType = classifyNatType(mapping, filtering ?? 'address-and-port-dependent');
  else if (!mapping && !filtering && /STUN receive timeout/.test(output) && !/RFC 5780 response/.test(output)) natType = 'udp-blocked';
  return { noNat, mapping, filtering, natType, output };
}

async function turnutils(phone: NatLabPhone): Promise<Timed<TurnutilsVerdict>> {
  const { address, port } = lab.stun.primary;
  const r = await nsExec(phone.ns, 'turnutils_natdiscovery', ['-m', '-f', '-L', phone.addresses[1], '-p', String(port), address], { timeoutMs: 30_000 });
  return { value: parseTurnutils(r.stdout), wallMs: r.elapsedMs };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

const CELLS: ReadonlyArray<{ readonly key: string; readonly expected: NatType }> = [
  { key: 'none', expected: 'open' },
  { key: 'full-cone', expected: 'full-cone' },
  { key: 'restricted-cone', expected: 'restricted-cone' },
  { key: 'port-restricted-cone', expected: 'port-restricted-cone' },
  { key: 'symmetric', expected: 'symmetric' },
  { key: 'udp-blocked', expected: 'udp-blocked' },
];

describe('nat-test verdicts equal the router built and turnutils_natdiscovery', () => {
  for (const { key, expected } of CELLS) {
    test(`a phone ${key === 'none' ? 'with no NAT' : `behind a ${key} router`} is told ${expected}, as turnutils_natdiscovery says`, { timeout: 30_000 }, async () => {
      const phone = lab.phone(key);
      const mine = await ours(phone);
      const theirs = await turnutils(phone);
      console.log(
        `# ${key.padEnd(21)} ours ${mine.value.natType} in ${seconds(mine.wallMs)} (verdict ${Math.round(mine.value.timings.verdictMs)} ms after start-up)` +
          ` | turnutils_natdiscovery ${theirs.value.natType ?? '?'} in ${seconds(theirs.wallMs)}`,
      );
      const r = mine.value;
      assert.equal(r.natType, expected);
      assert.equal(theirs.value.natType, expected, `turnutils_natdiscovery said:\n${theirs.value.output}`);
      assert.equal(r.mapping, theirs.value.mapping, 'mapping behaviour');
      assert.equal(r.filtering, theirs.value.filtering, 'filtering behaviour');
      if (expected === 'udp-blocked') {
        assert.equal(r.publicAddress, null);
        return;
      }
      assert.equal(r.publicAddress, phone.publicAddress);
      assert.deepEqual(r.otherAddress, lab.stun.alternate);
      assert.equal(r.localAddress.address, phone.addresses[0]);
      assert.equal(r.bindingLifetimeS, undefined, 'binding lifetime is not measured unless asked');
    });
  }

  test('the binding lifetime of a router whose conntrack UDP timeout is 4 s comes out as 3-4 s', { timeout: 30_000 }, async () => {
    const mine = await ours(lab.phone('short-lived'), ['--lifetime-max-s', '7', '--lifetime-step-s', '1']);
    const r = mine.value;
    console.log(`# short-lived (4 s)      ours ${r.natType}, binding alive after ${r.bindingLifetimeS} s idle, gone after ${r.bindingExpiredS} s; lifetime test ${seconds(r.timings.bindingLifetimeMs ?? 0)}`);
    assert.equal(r.natType, 'port-restricted-cone');
    assert.ok(r.bindingLifetimeS !== undefined && r.bindingLifetimeS >= 3 && r.bindingLifetimeS <= 4, `bindingLifetimeS ${r.bindingLifetimeS}`);
    assert.equal(r.bindingExpiredS, r.bindingLifetimeS + 1);
    assert.ok((r.timings.bindingLifetimeMs ?? Infinity) < 10_000, 'bounded by the max wait plus one STUN timeout');
  });
});

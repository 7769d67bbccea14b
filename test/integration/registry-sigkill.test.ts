// Power-loss safety of the registry: a writer is SIGKILLed at random moments, 200 times; after each
// kill the file on disk must be one complete version and the daemon must start with it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { getJson, startDaemon } from '../helpers/daemon-process.js';
import { tempDir } from '../helpers/tmp.js';
import { mulberry32 } from '../helpers/seeded-random.js';

const WRITER = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'settings-writer.js');
const KILLS = 200;
const LANES = 2;

async function killWriterAtRandom(dataDir: string, delayMs: number): Promise<void> {
  const child = spawn(process.execPath, [WRITER, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    void exited.then(() => reject(new Error(`writer exited before writing: ${stderr}`)));
  });
  await new Promise((r) => setTimeout(r, delayMs));
  child.kill('SIGKILL');
  await exited;
}

function checkFile(dataDir: string): number {
  const file = join(dataDir, 'settings.json');
  assert.ok(existsSync(file), 'settings.json exists');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { format: string; generation: number; settings: Record<string, unknown> };
  assert.equal(doc.format, 'deskphone-agent/registry');
  const g = doc.generation;
  assert.ok(Number.isInteger(g) && g > 0);
  // Each loop turn writes two versions; both keys always describe one of them.
  const ua = Number(String(doc.settings['sip.userAgent']).replace('writer-', ''));
  const pw = Number(String(doc.settings['accounts.home.password']).replace('pw-', ''));
  assert.ok(ua === g || ua === g - 1, `generation ${g} with user agent writer-${ua}`);
  assert.ok(pw === g || pw === g - 1 || (g === 1 && Number.isNaN(pw)), `generation ${g} with password pw-${pw}`);
  return g;
}

async function lane(seed: number, kills: number): Promise<{ lastGeneration: number; maxStartupMs: number }> {
  const random = mulberry32(seed);
  const dataDir = tempDir('dpa-kill-');
  let lastGeneration = 0;
  let maxStartupMs = 0;
  for (let i = 0; i < kills; i++) {
    await killWriterAtRandom(dataDir, Math.floor(random() * 25));
    const g = checkFile(dataDir);
    assert.ok(g > lastGeneration, `generation advanced (${lastGeneration} -> ${g}) at kill ${i}`);
    lastGeneration = g;
    const daemon = await startDaemon(dataDir);
    maxStartupMs = Math.max(maxStartupMs, daemon.startupMs);
    const { body } = await getJson(`${daemon.url}api/registry/sip.userAgent`);
    const ua = (body as { value: string }).value;
    assert.match(ua, /^writer-\d+$/, `daemon ${i} sees a written user agent`);
    assert.ok(daemon.logs.every((l) => !String(l['msg']).startsWith('settings:')), `daemon ${i} found no bad settings`);
    assert.equal((await daemon.stop()).code, 0);
  }
  // Files left by killed writers are cleaned up at the next open; only the lock may be left.
  const leftovers = readdirSync(dataDir).filter((f) => f !== 'settings.json' && f !== 'settings.json.lock' && !f.startsWith('settings.json.tmp-'));
  assert.deepEqual(leftovers, []);
  return { lastGeneration, maxStartupMs };
}

test(`settings survive ${KILLS} SIGKILLs of a writer at random moments`, { timeout: 240_000 }, async (t) => {
  const seed = Number(process.env['KILL_SEED'] ?? Date.now() % 100000);
  t.diagnostic(`seed ${seed} (rerun with KILL_SEED=${seed})`);
  const results = await Promise.all(Array.from({ length: LANES }, (_, i) => lane(seed + i, KILLS / LANES)));
  for (const r of results) t.diagnostic(`lane reached generation ${r.lastGeneration}; slowest daemon start ${r.maxStartupMs.toFixed(0)} ms`);
});

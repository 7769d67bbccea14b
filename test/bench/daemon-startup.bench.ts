// Start-up time of the daemon (spawn → /api/status answers) and its idle RSS, on the sim board.
// Run: npm run build && node dist/test/bench/daemon-startup.bench.js [runs]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../helpers/paths.js';

const RUNS = Number(process.argv[2] ?? 5);
const IDLE_S = 5;
const PORT = 18000 + (process.pid % 1000);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function once(dataDir: string): Promise<{ startMs: number; rssMiB: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, 'run', '--board', 'sim', '--data-dir', dataDir, '--http', `127.0.0.1:${PORT}`, '--sip-port', '0'], { stdio: 'ignore' });
  try {
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${PORT}/api/status`);
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      if (performance.now() - t0 > 10_000) throw new Error('daemon did not answer in 10 s');
      await new Promise((r) => setTimeout(r, 5));
    }
    const startMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
    return { startMs, rssMiB: rssKiB / 1024 };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'dpa-bench-'));
const results = [];
for (let i = 0; i < RUNS; i++) results.push(await once(dir));
rmSync(dir, { recursive: true, force: true });
console.log(`daemon start → /api/status: median ${median(results.map((r) => r.startMs)).toFixed(0)} ms (runs: ${results.map((r) => r.startMs.toFixed(0)).join(', ')})`);
console.log(`idle RSS after ${IDLE_S} s: median ${median(results.map((r) => r.rssMiB)).toFixed(1)} MiB (runs: ${results.map((r) => r.rssMiB.toFixed(1)).join(', ')})`);

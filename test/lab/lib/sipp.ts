// Runs a SIPp scenario to completion, bounded in calls and time; returns its exit code and counts.
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/paths.js';
import { startProcess, type LabProcess } from './process.js';

export interface SippOptions {
  /** File under test/lab/sipp/ */
  readonly scenario: string;
  /** host:port of the element under test (omit for a UAS scenario). */
  readonly remote?: string;
  readonly localAddress?: string;
  readonly localPort: number;
  readonly calls: number;
  readonly ratePerS?: number;
  /** Percentage of packets SIPp drops on purpose (retransmission tests). */
  readonly lostPercent?: number;
  readonly timeoutS: number;
  readonly auth?: { user: string; password: string };
  readonly extra?: readonly string[];
}

export interface SippResult {
  readonly exitCode: number | null;
  readonly successful: number;
  readonly failed: number;
  readonly retransmissions: number;
  readonly output: string;
}

export function sippScenario(name: string): string {
  return join(REPO_ROOT, 'test', 'lab', 'sipp', name);
}

/** Starts SIPp; `result()` waits for it to finish (it always does: -m and -timeout bound it). */
export function startSipp(o: SippOptions): { process: LabProcess; result(): Promise<SippResult> } {
  const dir = mkdtempSync(join(tmpdir(), 'dpa-sipp-'));
  const args = [
    '-sf', sippScenario(o.scenario),
    '-i', o.localAddress ?? '127.0.0.1', '-p', String(o.localPort),
    '-m', String(o.calls), '-r', String(o.ratePerS ?? 10),
    '-timeout', `${o.timeoutS}s`, '-timeout_error',
    '-trace_stat', '-stf', join(dir, 'stat.csv'), '-trace_err', '-error_file', join(dir, 'errors.log'),
    '-nostdin', '-bg',
    ...(o.lostPercent ? ['-lost', String(o.lostPercent)] : []),
    ...(o.auth ? ['-au', o.auth.user, '-ap', o.auth.password] : []),
    ...(o.extra ?? []),
    ...(o.remote ? [o.remote] : []),
  ];
  // -bg forks SIPp into the background and prints its PID: run in the foreground instead, so
  // the PID we hold is SIPp's own.
  const fg = args.filter((a) => a !== '-bg');
  const proc = startProcess('sipp', 'sipp', fg, { cwd: dir });
  return {
    process: proc,
    async result() {
      const { code } = await proc.exited;
      const stat = readStat(join(dir, 'stat.csv'));
      let errors = '';
      try {
        errors = readdirSync(dir).filter((f) => f.startsWith('errors')).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
      } catch {
        // no error file
      }
      return { exitCode: code, ...stat, output: `${proc.output().slice(-3000)}\n${errors.slice(-3000)}` };
    },
  };
}

function readStat(path: string): { successful: number; failed: number; retransmissions: number } {
  try {
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    const head = (lines[0] ?? '').split(';');
    const last = (lines[lines.length - 1] ?? '').split(';');
    const col = (name: string) => Number(last[head.indexOf(name)] ?? NaN);
    return { successful: col('SuccessfulCall(C)'), failed: col('FailedCall(C)'), retransmissions: col('Retransmissions(C)') };
  } catch {
    return { successful: NaN, failed: NaN, retransmissions: NaN };
  }
}

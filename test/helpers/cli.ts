import { spawnSync } from 'node:child_process';
import { CLI } from './paths.js';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the deskphone-agent command synchronously. */
export function cli(args: string[], input?: string): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input: input ?? '', timeout: 15_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

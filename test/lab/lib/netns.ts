// Generic network-namespace helpers for lab tests: namespaces with random-suffixed names, veth
// pairs between them, commands run inside one. Nothing here touches the host's own namespace
// except to create and delete the named ones; a NamespaceGroup deletes all it made, even after
// a failure (call cleanup() from after()).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit code; null when killed by a signal (the timeout). */
  readonly code: number | null;
  readonly elapsedMs: number;
}

export interface RunOptions {
  readonly timeoutMs?: number;
  /** Resolve with a non-zero exit instead of rejecting. */
  readonly allowFailure?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** Hex of `bytes` random bytes: 3 bytes give 6 characters, enough to keep parallel runs apart. */
export function randomSuffix(bytes = 3): string {
  return randomBytes(bytes).toString('hex');
}

/** A random-suffixed interface name that fits IFNAMSIZ (15 characters). */
export function interfaceName(prefix: string): string {
  return `${prefix.slice(0, 8)}-${randomSuffix()}`;
}

export function runCommand(cmd: string, args: readonly string[], o: RunOptions = {}): Promise<CommandResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(cmd, [...args], { timeout: o.timeoutMs ?? 10_000, maxBuffer: 4 << 20, env: { ...process.env, ...o.env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      const result = { stdout, stderr, code, elapsedMs: performance.now() - started };
      if (code !== 0 && !o.allowFailure) {
        reject(new Error(`${cmd} ${args.join(' ')} failed (${code ?? err?.signal ?? 'error'}): ${stderr.trim() || err?.message}`));
      } else {
        resolve(result);
      }
    });
  });
}

/** `ip netns exec <ns> cmd args...` */
export function nsExec(ns: string, cmd: string, args: readonly string[], o: RunOptions = {}): Promise<CommandResult> {
  return runCommand('ip', ['netns', 'exec', ns, cmd, ...args], o);
}

/** `ip -n <ns> args...` */
export async function ipIn(ns: string, args: readonly string[]): Promise<void> {
  await runCommand('ip', ['-n', ns, ...args]);
}

export async function createNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomSuffix()}`;
  await runCommand('ip', ['netns', 'add', name]);
  await ipIn(name, ['link', 'set', 'lo', 'up']);
  return name;
}

export async function deleteNamespace(name: string): Promise<void> {
  const r = await runCommand('ip', ['netns', 'delete', name], { allowFailure: true });
  if (r.code !== 0 && !/No such file/.test(r.stderr)) throw new Error(`ip netns delete ${name}: ${r.stderr.trim()}`);
}

export interface VethEnd {
  readonly ns: string;
  readonly name: string;
  /** Addresses in CIDR form (`192.168.1.1/24`). */
  readonly addresses?: readonly string[];
}

/** A veth pair from a.ns to b.ns, both ends addressed and up. */
export async function createVeth(a: VethEnd, b: VethEnd): Promise<void> {
  await ipIn(a.ns, ['link', 'add', a.name, 'type', 'veth', 'peer', 'name', b.name, 'netns', b.ns]);
  for (const end of [a, b]) {
    for (const cidr of end.addresses ?? []) await ipIn(end.ns, ['addr', 'add', cidr, 'dev', end.name]);
    await ipIn(end.ns, ['link', 'set', end.name, 'up']);
  }
}

/** Sets a sysctl inside the namespace (the net.* ones are per namespace). */
export async function nsSysctl(ns: string, key: string, value: string | number): Promise<void> {
  await nsExec(ns, 'sysctl', ['-qw', `${key}=${value}`]);
}

/** Namespaces made together and deleted together. */
export class NamespaceGroup {
  private readonly names: string[] = [];

  async create(prefix: string): Promise<string> {
    const name = await createNamespace(prefix);
    this.names.push(name);
    return name;
  }

  get namespaces(): readonly string[] {
    return this.names;
  }

  /** Deletes every namespace of the group; reports all failures at once. Stop processes inside first. */
  async cleanup(): Promise<void> {
    const names = this.names.splice(0).reverse();
    const results = await Promise.allSettled(names.map(deleteNamespace));
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    if (failed.length > 0) throw new Error(`namespace cleanup: ${failed.join('; ')}`);
  }
}

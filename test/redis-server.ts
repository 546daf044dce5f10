/**
 * A private `redis-server` for a BullMQ test file: a free loopback port, a temporary directory,
 * `appendonly yes` with `appendfsync always` (a SIGKILL loses nothing, so the restart test is exact)
 * and `maxmemory-policy noeviction` (BullMQ refuses anything else). One server per test file, started
 * in its `beforeAll`: files run in parallel (`pool: 'forks'`) and one of them restarts its server.
 *
 * `redisServerBinary()` is what `test/redis-global-setup.ts` checks once per `vitest run`; without
 * the binary those files skip (one line says how to install it), and in CI (`CI=true`) they fail.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

/** What to run to get one: printed when the binary is missing. */
export const INSTALL_HINT = 'sudo apt-get install -y redis-server (Debian/Ubuntu) or brew install redis';

/** The redis-server binary on PATH (or REDIS_SERVER), or undefined. */
export function redisServerBinary(): string | undefined {
  const candidate = process.env.REDIS_SERVER ?? 'redis-server';
  try {
    execFileSync(candidate, ['--version'], { stdio: 'ignore', timeout: 10_000 });
    return candidate;
  } catch {
    return undefined;
  }
}

/** Whether the BullMQ tests can run here; throws in CI when they cannot (a missing server must not pass CI). */
export function redisAvailable(): boolean {
  if (redisServerBinary() !== undefined) return true;
  if (process.env.CI) throw new Error(`redis-server is not installed, and CI=true: the BullMQ tests must run. Install it: ${INSTALL_HINT}`);
  return false;
}

/** A free TCP port on 127.0.0.1 (the OS picks it). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export class RedisServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'tessera-redis-'));
  #process: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  /** Starts a server; resolves once it accepts connections. */
  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.#spawn();
    return server;
  }

  /** BullMQ connection options for it. `maxRetriesPerRequest: null` as BullMQ asks of workers. */
  get connection(): { host: string; port: number; maxRetriesPerRequest: null } {
    return { host: '127.0.0.1', port: this.port, maxRetriesPerRequest: null };
  }

  async #spawn(): Promise<void> {
    const binary = redisServerBinary();
    if (binary === undefined) throw new Error(`redis-server is not installed: ${INSTALL_HINT}`);
    const args = [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '',
      '--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction', '--loglevel', 'notice',
    ];
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#process = child;
    let output = '';
    const ready = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        // Logged at level notice once the server accepts connections.
        if (/Ready to accept connections/.test(output)) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)));
      child.once('error', reject);
    });
    await ready;
  }

  /** SIGKILLs the server (a crash: nothing flushed at exit) and waits for it to be gone. */
  async kill(): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** Starts it again on the same port and directory: it reloads its append-only file. */
  async restart(): Promise<void> {
    await this.kill();
    await this.#spawn();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}


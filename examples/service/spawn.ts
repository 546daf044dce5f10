/**
 * Starts the service in a child process and hands back its address: what `npm run service:load`
 * and the tests do to get a real server on a free port. Also reads its dashboard data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { DashboardData } from './app.ts';

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));

/** A started service. */
export interface RunningServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the first line of output that matches `pattern` (already printed or still to come). */
  waitFor(pattern: RegExp): Promise<string>;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code (null when a signal killed it). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs server.ts with `args` (`--port 0` is added: any free port) and waits until it listens. */
export async function startServer(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER, '--port', '0', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const waiters = new Set<() => void>();
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const collect = (chunk: Buffer): void => {
    text += chunk.toString();
    for (const wake of waiters) wake();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const waitFor = (pattern: RegExp): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const line = text.split('\n').find((l) => pattern.test(l));
        if (line === undefined) return false;
        waiters.delete(wake);
        resolve(line);
        return true;
      };
      const wake = (): void => void check();
      if (check()) return;
      waiters.add(wake);
      void exited.then(([code]) => {
        if (!check()) reject(new Error(`the service exited (code ${code}) before printing ${pattern}:\n${text}`));
      });
    });
  const line = await waitFor(/^listening on /);
  return {
    url: /^listening on (\S+)/.exec(line)![1]!,
    child,
    output: () => text,
    waitFor,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code] = await exited;
      return code;
    },
  };
}

/** GET /dashboard/data of the service at `url`. */
export async function dashboard(url: string): Promise<DashboardData> {
  const response = await fetch(`${url}/dashboard/data`);
  if (!response.ok) throw new Error(`GET /dashboard/data: HTTP ${response.status}`);
  return (await response.json()) as DashboardData;
}

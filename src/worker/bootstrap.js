// The file piscina loads in each thread. Plain JavaScript, because it must run before anything can
// teach the thread TypeScript: `--import tsx` in a Worker's execArgv does not reach the thread on
// Node 20, so tsx is registered here, then the real entry is loaded.
import { workerData } from 'node:worker_threads';

if (workerData.tsx) {
  const { register } = await import(workerData.tsx);
  register();
}

const entry = await import(workerData.entry);
export default entry.default;

/**
 * The optional peer dependencies, loaded once when `tessera-pool/bullmq` is imported (and only
 * then: `tessera-pool` itself never loads them). A missing one fails that import with
 * `PeerDependencyError` saying what to install, not with Node's bare "Cannot find package".
 * BullMQ loads ioredis itself (with `require`, at its first connection), so ioredis is checked here
 * too, where the message can still be clear.
 */
import { PeerDependencyError } from '../errors.ts';

async function load<T>(name: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (cause) {
    throw new PeerDependencyError(name, cause);
  }
}

/** The `bullmq` module. */
export const bullmq: typeof import('bullmq') = await load('bullmq', () => import('bullmq'));
await load('ioredis', () => import('ioredis'));

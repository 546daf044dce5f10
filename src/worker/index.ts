/** What task modules import (`tessera-pool/worker`): types and helpers, none of the main-thread runtime. */
export type { TaskContext } from './context.ts';
export { transfer, toShared, type Transfer } from './transfer.ts';
/** Throw it from a task to say that retrying cannot help: the run fails at once, whatever its `retry` policy. */
export { UnrecoverableError } from '../errors.ts';

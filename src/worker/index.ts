/** What task modules import (`tessera-pool/worker`): types and helpers, none of the main-thread runtime. */
export type { TaskContext } from './context.ts';
export { transfer, toShared, type Transfer } from './transfer.ts';

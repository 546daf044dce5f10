/**
 * `tessera-pool/bullmq`: the same task modules as BullMQ jobs on Redis. Needs the optional peer
 * dependencies `bullmq` and `ioredis`; importing this entry without them fails with
 * `PeerDependencyError` (`tessera-pool` itself never loads them).
 */
export { startWorker, Consumer, type StartWorkerOptions } from './consumer.ts';
export { createQueue, DistributedQueue, type CreateQueueOptions, type Schedule } from './producer.ts';
export { PRIORITY_ORIGIN, type JobOptions, type JobRetryOptions, type RunJobOptions } from './options-mapping.ts';
export { JobDataError, JobFailedError, PeerDependencyError, UnsupportedOptionError } from '../errors.ts';

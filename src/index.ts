export { createPool, Pool, type PoolStats } from './pool.ts';
export { poolDefaults, type PoolOptions, type RunOptions, type RateLimit, type RateLimits } from './options.ts';
export { retryDefaults, type RetryOptions, type Backoff } from './retry.ts';
export type { TaskName, TaskInput, TaskResult, RunArgs, AnyTaskModule } from './types.ts';
export type { TaskContext } from './worker/context.ts';
export { transfer, toShared, type Transfer } from './worker/transfer.ts';
export { proxy } from './callbacks.ts';
export {
  ErrorCodes,
  type ErrorCode,
  type CrashReason,
  TesseraError,
  QueueFullError,
  PoolClosedError,
  PoolDestroyedError,
  AbortError,
  TaskTimeoutError,
  WorkerCrashError,
  UnknownTaskError,
  TaskInputError,
  TaskResultError,
  ModuleNotFoundError,
  ModuleLoadError,
  InvalidOptionTypeError,
  InvalidOptionRangeError,
  MapItemError,
  PartitionError,
  ImageError,
  type ImageErrorCode,
  UnrecoverableError,
  PoisonTaskError,
  RetryHookError,
  FlowDefinitionError,
  FlowFailedError,
  FlowTimeoutError,
  FlowInputError,
  SourceError,
  PipelineStageError,
  CronPatternError,
  UnsupportedOptionError,
  JobDataError,
  JobFailedError,
  PeerDependencyError,
} from './errors.ts';
export type { BatchOptions, BatchProgress, BatchResult } from './batch.ts';
export type { PipelineOptions, PipelineStage, PipelineResult } from './pipeline.ts';
export type { ScheduleOptions, ScheduleHandle, Overlap } from './cron.ts';
export type { MapOptions } from './map.ts';
export type { Partitioner, Partitions } from './partition.ts';
export { taskModule } from './module-url.ts';
export {
  defineFlow,
  Flow,
  type FlowNode,
  type LooseFlowNode,
  type FlowInputBuilder,
  type FlowNodeRunOptions,
  type FlowFailurePolicy,
  type FlowNodeStatus,
  type FlowNodeReport,
  type FlowReport,
  type FlowResults,
  type FlowEvent,
  type FlowOptions,
  type FlowArgs,
} from './flow.ts';
export {
  channelNames,
  PoolEvents,
  type PoolEventMap,
  type TaskOutcome,
  type ThreadExitReason,
  type TaskDispatchEvent,
  type TaskSettleEvent,
  type TaskRetryEvent,
  type ThreadStartEvent,
  type ThreadExitEvent,
  type ThreadRecycleEvent,
  type RunTraceContext,
} from './events.ts';
export type { TaskCounts, ThreadExits, EventLoopStats } from './metrics.ts';
export type { DurationSummary } from './histogram.ts';

/**
 * Progress (`context.progress` in a task, the `onProgress` run option): main-thread side.
 *
 * The thread coalesces (`worker/progress.ts`): the latest value wins, at most one `Progress` notice
 * per 16 ms per task, and the pending one goes right before the result on the same port, so the last
 * value always arrives first. A task with `onProgress` travels alone (one task per request), so a
 * notice names exactly one run; the executor hands it here only while that run is unsettled.
 *
 * The caller's `onProgress` is user code on the main thread: whatever it throws, or a promise it
 * returns rejects with, is caught and reported once per run as a `TesseraWarning` (process
 * `'warning'` event); the run goes on and settles as if nothing happened.
 */
import type { Task } from './task.ts';
import { callContained } from './contain.ts';
import { describeValue } from './worker/wire-error.ts';

/** Runs that already warned about their `onProgress`: one warning per run. */
const warned = new WeakSet<Task>();

/** Calls the run's `onProgress` with `value`, containing whatever it does. */
export function reportProgress(task: Task, value: unknown): void {
  callContained((error) => warn(task, error), task.onProgress!, value);
}

function warn(task: Task, error: unknown): void {
  if (warned.has(task)) return;
  warned.add(task);
  process.emitWarning(`onProgress of a run of \`${task.name}\` threw; ignored, the run goes on. ${describeValue(error)}`, 'TesseraWarning');
}

// The plain Worker used by the hand-written processing models (no library):
//  - role 'rr'       a long-lived worker: [id, kind, input] in, [id, result] out (round robin baseline)
//  - role 'once'     thread per task: runs workerData.kind on workerData.input, posts the result, exits
//  - role 'stage1'   first stage of the two-stage pipeline: runs the first half, forwards to stage 2's port
//  - role 'stage2'   second stage: runs the second half (or the tiny task), replies to the main thread
import { parentPort, workerData } from 'node:worker_threads';
import { cpu, tiny } from './kernel.mjs';

const { role } = workerData;

function run(kind, input) {
  return kind === 'tiny' ? tiny(input) : cpu(input);
}

if (role === 'once') {
  parentPort.postMessage(run(workerData.kind, workerData.input));
} else if (role === 'rr') {
  parentPort.on('message', (msg) => {
    parentPort.postMessage([msg[0], run(msg[1], msg[2])]);
  });
} else if (role === 'stage1') {
  const next = workerData.next;
  parentPort.on('message', (msg) => {
    const [id, kind, input] = msg;
    if (kind === 'tiny') {
      next.postMessage(msg); // stage 1 of a tiny task only forwards it
    } else {
      const half = input.iterations >>> 1;
      next.postMessage([id, kind, { seed: cpu({ seed: input.seed, iterations: half }), iterations: input.iterations - half }]);
    }
  });
} else if (role === 'stage2') {
  workerData.prev.on('message', (msg) => {
    parentPort.postMessage([msg[0], run(msg[1], msg[2])]);
  });
}

// examples/video-flow.ts: `node --import tsx examples/video-flow.ts`. Encode, then thumbnails and transcription in parallel, then resize the thumbnails once both are done.
import { createPool, defineFlow, FlowFailedError, taskModule } from 'tessera-pool';
import type * as tasks from './video-tasks.ts';

// Defined once, checked as it is built (a parent must exist, names are unique), run for every upload.
// Node names, parents and their result types are checked by the compiler: `encoded.path` is a string.
const videoFlow = defineFlow<typeof tasks, { source: string; silent: boolean }>()
  .node('encoded', { task: 'encode', input: (_, { source }) => ({ source }) })
  .node('thumbnails', { task: 'thumbnails', after: ['encoded'], input: ({ encoded }) => ({ ...encoded, count: 3 }) })
  .node('transcript', {
    task: 'transcribe',
    after: ['encoded'],
    input: ({ encoded }, { silent }) => ({ path: encoded.path, silent }),
    run: { timeout: 5_000, retry: { attempts: 3 } }, // any run option: each node is a pool.run
  })
  .node('resized', {
    task: 'resize',
    after: ['thumbnails', 'transcript'],
    input: ({ thumbnails, transcript }) => ({ frames: thumbnails, width: 320, caption: transcript.language }),
  });

await using pool = createPool<typeof tasks>({ module: taskModule('./video-tasks.ts', import.meta.url), maxThreads: 2 });

const finished: string[] = [];
const report = await pool.flow(videoFlow, { source: 'holiday.mov', silent: false }, {
  timeout: 10_000, // the whole flow, from this call
  onEvent: (event) => void (event.type === 'finished' && finished.push(event.node)),
});
console.log('finished:', finished.join(', ')); // encoded, then thumbnails and transcript in either order, then resized
console.log('resized:', report.results.resized.join(' ')); // resized: 15s@320w.en.jpg 45s@320w.en.jpg 75s@320w.en.jpg
console.log('statuses:', Object.values(report.nodes).map((node) => node.status).join(' ')); // statuses: completed completed completed completed

// A node that fails fails the flow: what has not started is cancelled, the report tells each node's fate.
try {
  await pool.flow(videoFlow, { source: 'mime.mov', silent: true });
} catch (error) {
  if (!(error instanceof FlowFailedError)) throw error;
  const { nodes } = error.report;
  console.log(`failed: ${error.node} (${(error.cause as Error).message}), resized: ${nodes.resized?.status}`); // failed: transcript (no audio track), resized: cancelled
}

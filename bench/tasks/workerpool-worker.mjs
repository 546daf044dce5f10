// workerpool's worker script: registers the shared kernel functions.
import workerpool from 'workerpool';
import { cpu, tiny } from './kernel.mjs';

workerpool.worker({ tiny, cpu });

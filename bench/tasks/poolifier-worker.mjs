// poolifier's worker script: the shared kernel functions as named task functions.
import { ThreadWorker } from 'poolifier';
import { cpu, tiny } from './kernel.mjs';

export default new ThreadWorker({ tiny, cpu });

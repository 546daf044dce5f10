// The recycling bench's child process entry (plain JavaScript): registers tsx here instead of through
// `--import tsx` so that process.execArgv stays free of it. Worker threads inherit execArgv, and a
// replacement thread that loads the TypeScript loader too would make each retirement cost several
// times what it costs in production. See bench/child.mjs.
import { register } from 'tsx/esm/api';

register();
await import('./recycling.ts');

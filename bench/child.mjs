// The child process entry (plain JavaScript). It registers tsx here instead of through `--import tsx` so
// that process.execArgv stays empty: worker threads inherit execArgv, and a thread that inherits
// `--import tsx` loads the TypeScript loader too (about 80 ms and several MB more per thread), which
// would weigh on every pool library and plain Worker alike. tessera's own threads still register tsx,
// because tessera runs from source (src/*.ts) here.
import { register } from 'tsx/esm/api';

register();
await import('./runner.ts');

// The one shared bundle (dist/core/index.js): every action entry and the CLI load it.
export { runNamed } from './entry.js';
export { cli } from './cli/index.js';

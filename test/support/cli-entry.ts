// Runs the CLI from source (for tests that spawn it as a user would, without a build).
import { cli } from '../../src/cli/index.js';

process.exit(await cli(process.argv.slice(2)));

// `airlift <action> --<input> value ...`: the same entries as the GitHub Actions, outside a runner.
import { loadAction } from '../actions/index.js';
import { UserError } from '../lib/errors.js';
import { configureLog } from '../lib/log.js';
import { MemoryHost, reportError, runAction } from '../lib/run.js';
import { airliftVersion, manifests } from '../generated/actions.js';
import { inputEnvName, parseActionArgs, suggest } from './args.js';
import { actionHelp, globalHelp } from './help.js';
import { defaultIO, type CliIO } from './io.js';

/** Formats outputs as name=value lines; multi-line values as GITHUB_OUTPUT-style heredocs. */
export function formatOutputs(outputs: Record<string, string>): string {
  return Object.entries(outputs)
    .map(([k, v]) => {
      if (!v.includes('\n')) return `${k}=${v}`;
      let delim = 'AIRLIFT_EOF';
      while (v.includes(delim)) delim += '_';
      return `${k}<<${delim}\n${v}\n${delim}`;
    })
    .join('\n');
}

export async function cli(argv: string[], io: CliIO = defaultIO): Promise<number> {
  configureLog({ mode: 'cli', write: io.err, debug: argv.includes('--debug') || process.env.AIRLIFT_DEBUG === '1' });
  const [command, ...rest] = argv;
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      io.out(globalHelp());
      return command ? 0 : 2;
    }
    if (command === '--version' || command === '-V') {
      io.out(airliftVersion);
      return 0;
    }
    if (command === 'demo') {
      const { runDemo } = await import('./demo.js');
      return await runDemo(rest, io);
    }
    if (!(command in manifests)) {
      const hint = suggest(command, [...Object.keys(manifests), 'demo']);
      throw new UsageError(`unknown action "${command}"${hint ? `; did you mean ${hint}?` : ''} (see airlift --help)`);
    }
    const def = await loadAction(command);
    let parsed;
    try {
      parsed = parseActionArgs(command, def.inputs, rest);
    } catch (err) {
      if (err instanceof UserError) throw new UsageError(err.message);
      throw err;
    }
    if (parsed.help) {
      io.out(actionHelp(command, def.inputs));
      return 0;
    }
    for (const [name, value] of Object.entries(parsed.values)) process.env[inputEnvName(name)] = value;
    const host = new MemoryHost();
    let code = await runAction(def, 'main', host);
    if (def.post) code = (await runAction(def, 'post', host)) || code;
    if (Object.keys(host.outputs).length) io.out(parsed.json ? JSON.stringify(host.outputs) : formatOutputs(host.outputs));
    else if (parsed.json) io.out('{}');
    process.exitCode = code;
    return code;
  } catch (err) {
    reportError(err);
    const code = err instanceof UsageError ? 2 : 1;
    process.exitCode = code;
    return code;
  }
}

class UsageError extends UserError {}

/**
 * The `datactl` program: global options, one command group per file under commands/, and the one
 * error exit path (errors.ts). bin/datactl.js calls `run`; importing this module has no effects.
 */
import { Command } from 'commander';
import { datactlVersion } from '../src/version.js';
import { registerBranch } from './commands/branch.js';
import { registerContract } from './commands/contract.js';
import { serverDefault } from './commands/context.js';
import { registerDelete } from './commands/delete.js';
import { registerDiff } from './commands/diff.js';
import { registerGet } from './commands/get.js';
import { registerHook } from './commands/hook.js';
import { registerInspect } from './commands/inspect.js';
import { registerList } from './commands/list.js';
import { registerPin } from './commands/pin.js';
import { registerPull } from './commands/pull.js';
import { registerPut } from './commands/put.js';
import { registerRepo } from './commands/repo.js';
import { registerServe } from './commands/serve.js';
import { registerWebhook } from './commands/webhook.js';
import { reportError } from './errors.js';

export function buildProgram(): Command {
  const program = new Command('datactl')
    .description('git for data: versioned, deduplicated datasets on a datactl server')
    .version(datactlVersion(), '--version', 'print the version')
    .option('--server <url>', 'server URL (env DATACTL_URL)', serverDefault())
    .option('--json', 'print exactly one JSON value on stdout')
    .option('-q, --quiet', 'print only data and errors')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`datactl: ${text.replace(/^error: /, '')}`) });
  // Subcommands created with .command() inherit exitOverride and configureOutput from here.
  for (const register of [registerServe, registerRepo, registerBranch, registerPut, registerGet, registerList, registerInspect, registerDiff, registerDelete]) {
    register(program);
  }
  for (const register of [registerPin, registerPull, registerHook]) register(program);
  registerWebhook(program);
  registerContract(program);
  return program;
}

/** Run the CLI; resolves to the exit code. */
export async function run(argv: readonly string[] = process.argv): Promise<number> {
  process.stdout.on('error', exitOnBrokenPipe);
  try {
    await buildProgram().parseAsync([...argv]);
    return 0;
  } catch (err) {
    return reportError(err, process.stderr, Boolean(process.env['DATACTL_DEBUG']));
  }
}

/** `datactl get file ... | head` closes our stdout early: stop quietly, like other Unix tools. */
function exitOnBrokenPipe(err: NodeJS.ErrnoException): void {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
}

/** `datactl pin REPO@REF --file FILE --key KEY`: write a commit pin into a pin file. */
import type { Command } from 'commander';
import { shortId } from '../output.js';
import { parseRefSpec } from '../refspec.js';
import { context } from './context.js';

interface PinOptions {
  file: string;
  key: string;
}

export function registerPin(program: Command): void {
  program
    .command('pin')
    .description('pin a data commit in a code repo file: {"repo", "branch", "commit"} under KEY')
    .argument('<repo@ref>', 'what to pin; REF may be a branch (recorded as the pin\'s branch), a commit id (prefix), with ~N or ^')
    .requiredOption('--file <path>', 'the pin file, e.g. configuration/data.json (created when absent)')
    .requiredOption('--key <key>', 'the key to set, e.g. train (other keys are kept)')
    .action(async (spec: string, opts: PinOptions, cmd: Command) => {
      const ctx = context(cmd);
      const { repo, ref } = parseRefSpec(spec, 'forbid');
      const [client, { pinRef, writePin }] = await Promise.all([ctx.client(), import('../pinfile.js')]);
      const { pin, changed } = await writePin(opts.file, opts.key, await pinRef(client, repo, ref));
      ctx.out.done(pin, () => {
        const branch = pin.branch ? ` (branch ${pin.branch})` : '';
        return `${changed ? 'pinned' : 'already pinned:'} ${opts.key} in ${opts.file} to ${pin.repo}@${shortId(pin.commit)}${branch}`;
      });
    });
}

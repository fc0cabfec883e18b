/**
 * The git target's pin bumper (hooks/pin-bumper), one per server, built on first use so servers
 * without git targets never load git. Ancestry comes from this server's engine, not over HTTP.
 */
import path from 'node:path';
import type { Engine } from '../src/engine.js';
import { DatactlError } from '../src/errors.js';
import { checkAncestry } from '../src/ops/ancestry.js';
import { parseRepoName } from '../src/types.js';
import type { WebhookLogger } from '../src/webhooks/dispatcher.js';
import type { PinBumperLike } from '../src/webhooks/targets/git.js';

export function lazyPinBumper(engine: Engine, logger?: WebhookLogger): () => Promise<PinBumperLike> {
  let bumper: Promise<PinBumperLike> | undefined;
  return () => {
    bumper ??= createPinBumper(engine, logger).catch((err: unknown) => {
      bumper = undefined; // let the next attempt try again
      throw err;
    });
    return bumper;
  };
}

async function createPinBumper(engine: Engine, logger: WebhookLogger | undefined): Promise<PinBumperLike> {
  const { PinBumper } = await import('../hooks/pin-bumper/bumper.js');
  return new PinBumper({ workDir: path.join(engine.dataDir, 'hooks-work'), isAncestor: (repo, a, d) => isAncestor(engine, repo, a, d), logger });
}

/** A commit this repo does not know (a pin from before the repo was recreated) is no ancestor. */
async function isAncestor(engine: Engine, repo: string, ancestor: string, descendant: string): Promise<boolean> {
  try {
    return (await checkAncestry(engine.ctx, parseRepoName(repo), ancestor, descendant)).isAncestor;
  } catch (err) {
    if (err instanceof DatactlError && err.status === 404) return false;
    throw err;
  }
}

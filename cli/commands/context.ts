/**
 * What every command action needs: the global options, an Output, a client (imported lazily so
 * `--help` never loads the HTTP and hashing code), and a progress bar when one is allowed.
 */
import type { Command } from 'commander';
import { fail } from '../../src/errors.js';
import type { DatactlClient } from '../client.js';
import { DEFAULT_SERVER_URL } from '../defaults.js';
import { Output } from '../output.js';
import { ProgressBar } from '../progress.js';

export interface GlobalOptions {
  server: string;
  json: boolean;
  quiet: boolean;
}

export function serverDefault(env: NodeJS.ProcessEnv = process.env): string {
  return env['DATACTL_URL'] || DEFAULT_SERVER_URL;
}

export function globals(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals<{ server?: string; json?: boolean; quiet?: boolean }>();
  return { server: o.server ?? serverDefault(), json: o.json === true, quiet: o.quiet === true };
}

export interface Context {
  options: GlobalOptions;
  out: Output;
  client(): Promise<DatactlClient>;
  progress(label: string): ProgressBar;
}

export function context(cmd: Command): Context {
  const options = globals(cmd);
  const out = new Output({ json: options.json, quiet: options.quiet });
  return {
    options,
    out,
    async client() {
      const { DatactlClient } = await import('../client.js');
      return new DatactlClient({ baseUrl: options.server });
    },
    progress(label) {
      return new ProgressBar({ stream: out.stderr, enabled: out.progressEnabled, label });
    },
  };
}

/** Parse a positive integer option (`--limit`), as a usage error when it is not one. */
export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n <= 0) throw fail('E_BAD_REQUEST', `${name} must be a positive integer, got ${JSON.stringify(value)}`);
    return n;
  };
}

/** Commander parser for a text option that must say something (`--author ''` is a mistake, as in git). */
export function nonBlank(name: string) {
  return (value: string): string => {
    if (value.trim() === '') throw fail('E_BAD_REQUEST', `${name} must not be empty`);
    return value;
  };
}

/** Commander collector for repeatable options (`-f a -f b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

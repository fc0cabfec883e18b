/**
 * The demo's training job, run by the code repo's post-receive hook for one pushed rev:
 *
 *   DATACTL_URL=http://127.0.0.1:8080 node dist/hooks/demo/train.js \
 *     --git-dir code.git --rev <sha> --models models/ [--pin-file configuration/data.json] [--key train] [--path /housing.csv]
 *
 * It reads the pin at that rev, pulls exactly the pinned data commit's CSV with the SDK (verified;
 * a pin without a commit id is refused, as `datactl pull` refuses it), fits a least-squares line
 * and writes `models/model-<code sha12>.json` recording which data and which code made it.
 */
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DatactlClient, pull } from '../../cli/sdk.js';
import { PIN_FILE, PIN_KEY, git, showFile } from './code-repo.js';
import { DATA_PATH } from './dataset.js';
import { fitCsv } from './fit.js';

export interface TrainOptions {
  gitDir: string;
  rev: string;
  modelsDir: string;
  serverUrl: string;
  pinFile?: string;
  key?: string;
  dataPath?: string;
}

/** What a model file holds: the fit, and the exact data and code it came from. */
export interface ModelRecord {
  dataRepo: string;
  dataCommit: string;
  dataPath: string;
  codeCommit: string;
  rows: number;
  slope: number;
  intercept: number;
  r2: number;
  trainedAt: string;
}

/** The model file for a code commit, relative to the models directory. */
export function modelFileName(codeCommit: string): string {
  return `model-${codeCommit.slice(0, 12)}.json`;
}

export async function train(opts: TrainOptions): Promise<{ file: string; model: ModelRecord }> {
  const pinFile = opts.pinFile ?? PIN_FILE;
  const key = opts.key ?? PIN_KEY;
  const dataPath = opts.dataPath ?? DATA_PATH;
  const codeCommit = (await git(['--git-dir', opts.gitDir, 'rev-parse', '--verify', `${opts.rev}^{commit}`])).trim();
  const work = await mkdtemp(join(os.tmpdir(), 'datactl-train-'));
  try {
    // The pin file as committed at this rev, so the SDK reads (and refuses) it exactly as `datactl pull` would.
    const localPin = join(work, 'code', pinFile);
    await mkdir(dirname(localPin), { recursive: true });
    await writeFile(localPin, await showFile(opts.gitDir, codeCommit, pinFile));
    const client = new DatactlClient({ baseUrl: opts.serverUrl });
    const pulled = await pull(client, { file: localPin, key, output: join(work, 'data'), paths: [dataPath], cacheDir: null });
    const fit = await fitCsv(join(work, 'data', dataPath));
    const model: ModelRecord = { dataRepo: pulled.repo, dataCommit: pulled.commit, dataPath, codeCommit, ...fit, trainedAt: new Date().toISOString() };
    const file = join(opts.modelsDir, modelFileName(codeCommit));
    await writeAtomically(file, `${JSON.stringify(model, null, 2)}\n`);
    return { file, model };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function writeAtomically(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.tmp-${process.pid}`;
  await writeFile(temp, text);
  await rename(temp, file);
}

function optionsFromArgs(argv: string[]): TrainOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'git-dir': { type: 'string' },
      rev: { type: 'string' },
      models: { type: 'string' },
      'pin-file': { type: 'string' },
      key: { type: 'string' },
      path: { type: 'string' },
    },
    strict: true,
  });
  const need = (name: string, value: string | undefined) => {
    if (!value) throw new Error(`--${name} is required (usage: train.js --git-dir DIR --rev SHA --models DIR [--pin-file F] [--key K] [--path /FILE.csv])`);
    return value;
  };
  const serverUrl = process.env['DATACTL_URL'];
  if (!serverUrl) throw new Error('DATACTL_URL must name the datactl server');
  return {
    gitDir: need('git-dir', values['git-dir']),
    rev: need('rev', values.rev),
    modelsDir: need('models', values.models),
    serverUrl,
    pinFile: values['pin-file'],
    key: values.key,
    dataPath: values.path,
  };
}

async function main(): Promise<void> {
  try {
    const { file, model } = await train(optionsFromArgs(process.argv.slice(2)));
    const fit = `slope ${model.slope.toFixed(4)}, intercept ${model.intercept.toFixed(4)}, r2 ${model.r2.toFixed(4)}, rows ${model.rows}`;
    console.log(`train: code ${model.codeCommit.slice(0, 12)} on ${model.dataRepo}@${model.dataCommit.slice(0, 12)}: ${fit} -> ${file}`);
  } catch (err) {
    console.error(`train: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();

/**
 * `npm run demo`: the retraining loop on one machine, loopback only. A datactl server in a temp
 * dir, a data repo `housing`, a bare code repo whose post-receive hook trains (train.ts), and the
 * server's built-in git target pinning every data commit into the code repo. Dataset v1 is put,
 * the pin commit appears, the model is trained on exactly v1; then the same for v2. Prints the
 * chain data commit -> code commit -> model for both, with the put -> pin commit latencies.
 *
 *   node dist/hooks/demo/run.js [--keep] [--rows N]
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DatactlClient, putFiles } from '../../cli/sdk.js';
import { startServer, type RunningServer } from '../../server/main.js';
import { CODE_BRANCH, PIN_FILE, PIN_KEY, createCodeRepo, installTrainHook, pinHistory, pinnedCommitAt, revParse, subjectOf } from './code-repo.js';
import { DATA_PATH, DATA_REPO, writeLinearCsv, type LineSpec } from './dataset.js';
import { modelFileName, type ModelRecord } from './train.js';

export interface DemoOptions {
  /** Keep the temp dir (server data, code repo, models) instead of removing it. */
  keep?: boolean;
  /** Rows per dataset version (default 20,000). */
  rows?: number;
  /** Deadline for each wait (pin commit, model), default 20 s. */
  stepTimeoutMs?: number;
  /** Where progress and the chain go (default console.log). */
  log?: (line: string) => void;
  /** The built training script (default: dist/hooks/demo/train.js). */
  trainScript?: string;
}

export interface DemoVersion {
  label: string;
  formula: string;
  dataCommit: string;
  codeCommit: string;
  codeSubject: string;
  /** put returned -> the code repo's main pins this data commit. */
  pinLatencyMs: number;
  /** put returned -> the model file trained on it exists. */
  modelLatencyMs: number;
  /** The model file, relative to the demo dir (`models/model-<sha12>.json`). */
  modelFile: string;
  model: ModelRecord;
}

export interface DemoResult {
  /** The temp dir; it exists after the run only with `keep`. */
  dir: string;
  codeRepo: string;
  modelsDir: string;
  serverUrl: string;
  versions: DemoVersion[];
  /** Every commit of main that touched the pin file, oldest first (the seed pins nothing). */
  pins: Array<{ codeCommit: string; dataCommit: string | null }>;
  totalMs: number;
}

const VERSIONS: Array<{ label: string; line: Omit<LineSpec, 'rows'> }> = [
  { label: 'v1', line: { slope: 3, intercept: 2, seed: 1 } },
  { label: 'v2', line: { slope: 5, intercept: -1, seed: 2 } },
];
const PIN_POLL_MS = 5;
const FULL_CHECK_MS = 250;
const MODEL_POLL_MS = 10;

interface Context {
  dir: string;
  client: DatactlClient;
  bare: string;
  modelsDir: string;
  webhookId: string;
  rows: number;
  stepTimeoutMs: number;
  log: (line: string) => void;
}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const started = performance.now();
  const log = opts.log ?? ((line: string) => console.log(line));
  const trainScript = opts.trainScript ?? defaultTrainScript();
  if (!existsSync(trainScript)) throw new Error(`the training script ${trainScript} does not exist: run "npm run build" first`);
  const dir = await mkdtemp(join(os.tmpdir(), 'datactl-demo-'));
  let server: RunningServer | undefined;
  try {
    server = await startServer({ host: '127.0.0.1', port: 0, dataDir: join(dir, 'server'), logLevel: 'warn' });
    const ctx = await setUp(dir, server.url, trainScript, opts, log);
    const versions: DemoVersion[] = [];
    for (const { label, line } of VERSIONS) versions.push(await runVersion(ctx, label, line));
    const pins = await checkPinHistory(ctx.bare, versions);
    const totalMs = performance.now() - started;
    printChain(log, versions, totalMs);
    if (opts.keep) log(`kept ${dir} (server data in server/, code repo code.git, models in models/)`);
    return { dir, codeRepo: ctx.bare, modelsDir: ctx.modelsDir, serverUrl: server.url, versions, pins, totalMs };
  } finally {
    await server?.close();
    if (!opts.keep) await rm(dir, { recursive: true, force: true });
  }
}

/** The data repo, the code repo with its hook, and the git target between them. */
async function setUp(dir: string, serverUrl: string, trainScript: string, opts: DemoOptions, log: (line: string) => void): Promise<Context> {
  log(`datactl demo in ${dir}`);
  log(`  server      ${serverUrl} (in-process, data in server/)`);
  const client = new DatactlClient({ baseUrl: serverUrl });
  await client.createRepo(DATA_REPO, 'datactl demo: y = a x + b');
  const bare = await createCodeRepo(dir);
  const modelsDir = join(dir, 'models');
  await installTrainHook(bare, { node: process.execPath, trainScript, serverUrl, modelsDir });
  log(`  code repo   code.git, branch ${CODE_BRANCH}; its post-receive hook runs ${relative(process.cwd(), trainScript) || trainScript}`);
  const webhook = await client.createWebhook(DATA_REPO, {
    type: 'git',
    git: { url: bare, branch: CODE_BRANCH, pinFile: PIN_FILE, key: PIN_KEY },
    branches: ['main'],
  });
  log(`  git target  ${DATA_REPO}@main -> code.git ${CODE_BRANCH}:${PIN_FILE} key "${PIN_KEY}" (webhook ${webhook.id.slice(0, 8)})`);
  await mkdir(join(dir, 'datasets'), { recursive: true });
  return { dir, client, bare, modelsDir, webhookId: webhook.id, rows: opts.rows ?? 20_000, stepTimeoutMs: opts.stepTimeoutMs ?? 20_000, log };
}

/** Put one dataset version, then wait for its pin commit and its model. */
async function runVersion(ctx: Context, label: string, line: Omit<LineSpec, 'rows'>): Promise<DemoVersion> {
  const formula = `y = ${line.slope}x ${line.intercept < 0 ? '-' : '+'} ${Math.abs(line.intercept)} + noise`;
  const csv = join(ctx.dir, 'datasets', `housing-${label}.csv`);
  await writeLinearCsv(csv, { ...line, rows: ctx.rows });
  const put = await putFiles(ctx.client, { repo: DATA_REPO, branch: 'main', path: DATA_PATH, sources: [csv], message: `housing ${label}: ${formula}` });
  const putReturned = performance.now();
  if (!put.created || !put.commit) throw new Error(`${label}: the put made no commit`);
  const dataCommit = put.commit;
  ctx.log(`${label}: put ${ctx.rows} rows (${formula}) -> ${DATA_REPO}@${short(dataCommit)}`);

  const codeCommit = await waitForPin(ctx, label, dataCommit);
  const pinLatencyMs = performance.now() - putReturned;
  const codeSubject = await subjectOf(ctx.bare, codeCommit);
  ctx.log(`${label}: code.git ${CODE_BRANCH} -> ${short(codeCommit)} "${codeSubject}" ${ms(pinLatencyMs)} after put returned`);

  const model = await waitForModel(ctx, label, codeCommit);
  const modelLatencyMs = performance.now() - putReturned;
  if (model.dataCommit !== dataCommit) throw new Error(`${label}: the model was trained on ${model.dataRepo}@${short(model.dataCommit)}, not ${short(dataCommit)}`);
  if (model.codeCommit !== codeCommit) throw new Error(`${label}: the model records code ${short(model.codeCommit)}, not ${short(codeCommit)}`);
  const modelFile = `models/${modelFileName(codeCommit)}`;
  ctx.log(`${label}: trained -> ${modelFile} ${ms(modelLatencyMs)} after put returned`);
  return { label, formula, dataCommit, codeCommit, codeSubject, pinLatencyMs, modelLatencyMs, modelFile, model };
}

/**
 * Poll the code repo's main until its pin names `dataCommit`; returns that code commit. Each tick
 * reads the loose ref file (no process spawned, so polling does not slow the bump it measures);
 * git itself is asked when that file changed, and every FULL_CHECK_MS in case the ref is packed.
 */
async function waitForPin(ctx: Context, label: string, dataCommit: string): Promise<string> {
  const deadline = performance.now() + ctx.stepTimeoutMs;
  const refFile = join(ctx.bare, 'refs', 'heads', CODE_BRANCH);
  let seenFile: string | undefined;
  let seenHead: string | undefined;
  let lastFullCheck = -Infinity;
  for (;;) {
    const loose = await readFile(refFile, 'utf8').catch(() => '');
    if (loose !== seenFile || performance.now() - lastFullCheck >= FULL_CHECK_MS) {
      seenFile = loose;
      lastFullCheck = performance.now();
      const head = await revParse(ctx.bare, `refs/heads/${CODE_BRANCH}`);
      if (head && head !== seenHead) {
        seenHead = head;
        if ((await pinnedCommitAt(ctx.bare, head)) === dataCommit) return head;
      }
    }
    if (performance.now() > deadline) {
      throw new Error(`${label}: no pin commit for ${DATA_REPO}@${short(dataCommit)} in code.git within ${ms(ctx.stepTimeoutMs)}${await deliveryState(ctx)}`);
    }
    await sleep(PIN_POLL_MS);
  }
}

/** The webhook's latest delivery, to say why a pin did not arrive. */
async function deliveryState(ctx: Context): Promise<string> {
  try {
    const [last] = (await ctx.client.listDeliveries(DATA_REPO, ctx.webhookId, { limit: 1 })).deliveries;
    if (!last) return ' (no webhook delivery was queued)';
    return ` (latest delivery: ${last.status}, ${last.attempts} attempt(s)${last.lastError ? `, last error: ${last.lastError}` : ''})`;
  } catch (err) {
    return ` (could not read the delivery log: ${(err as Error).message})`;
  }
}

/** Wait for the hook's training on `codeCommit` to finish; its model, or its log as the error. */
async function waitForModel(ctx: Context, label: string, codeCommit: string): Promise<ModelRecord> {
  const base = join(ctx.modelsDir, `train-${codeCommit.slice(0, 12)}`);
  const deadline = performance.now() + ctx.stepTimeoutMs;
  while (!existsSync(`${base}.exit`)) {
    if (performance.now() > deadline) {
      const logText = await readFile(`${base}.log`, 'utf8').catch(() => undefined);
      const why = logText === undefined ? 'the hook did not start it (no log)' : logText.trim() ? `its log: ${logText.trim()}` : 'its log is empty';
      throw new Error(`${label}: training on code ${short(codeCommit)} did not finish within ${ms(ctx.stepTimeoutMs)}; ${why}`);
    }
    await sleep(MODEL_POLL_MS);
  }
  const code = (await readFile(`${base}.exit`, 'utf8')).trim();
  if (code !== '0') {
    const logText = await readFile(`${base}.log`, 'utf8').catch(() => '');
    throw new Error(`${label}: training on code ${short(codeCommit)} failed (exit ${code}): ${logText.trim()}`);
  }
  return JSON.parse(await readFile(join(ctx.modelsDir, modelFileName(codeCommit)), 'utf8')) as ModelRecord;
}

/** The pin file's history on main must be: the seed (no pin), v1, v2; never backward, nothing extra. */
async function checkPinHistory(bare: string, versions: DemoVersion[]): Promise<DemoResult['pins']> {
  const pins = await pinHistory(bare);
  const pinned = pins.map((p) => p.dataCommit).filter((c): c is string => c !== null);
  const expected = versions.map((v) => v.dataCommit);
  if (pinned.join() !== expected.join()) {
    throw new Error(`the pin history of code.git is ${pinned.map(short).join(' -> ') || 'empty'}, expected ${expected.map(short).join(' -> ')}`);
  }
  return pins;
}

function printChain(log: (line: string) => void, versions: DemoVersion[], totalMs: number): void {
  log('');
  for (const v of versions) {
    const m = v.model;
    const fit = `slope ${m.slope.toFixed(2)}, intercept ${m.intercept.toFixed(2)}, rows ${m.rows}, dataCommit ${short(m.dataCommit)}`;
    log(`${v.label}: data ${DATA_REPO}@${short(v.dataCommit)} -> code ${short(v.codeCommit)} "${v.codeSubject}" -> model ${v.modelFile} (${fit})`);
  }
  log(`latency put returned -> pin commit in code.git: ${versions.map((v) => `${v.label} ${ms(v.pinLatencyMs)}`).join(', ')}`);
  log(`latency put returned -> model written:          ${versions.map((v) => `${v.label} ${ms(v.modelLatencyMs)}`).join(', ')}`);
  log(`total ${(totalMs / 1000).toFixed(1)} s`);
}

/** dist/hooks/demo/train.js: next to this file when running from dist, else under the project's dist/. */
export function defaultTrainScript(): string {
  const sibling = fileURLToPath(new URL('./train.js', import.meta.url));
  return existsSync(sibling) ? sibling : fileURLToPath(new URL('../../dist/hooks/demo/train.js', import.meta.url));
}

const short = (id: string) => id.slice(0, 12);
const ms = (value: number) => `${Math.round(value)} ms`;
const sleep = (delay: number) => new Promise((resolve) => setTimeout(resolve, delay));

async function main(): Promise<void> {
  try {
    const { values } = parseArgs({ options: { keep: { type: 'boolean' }, rows: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
    if (values.help) {
      console.log('usage: npm run demo [-- --keep] [-- --rows N]\n  the retraining loop on one machine: data put -> pin commit -> training, twice');
      return;
    }
    const rows = values.rows === undefined ? undefined : Number(values.rows);
    if (rows !== undefined && (!Number.isInteger(rows) || rows < 2)) throw new Error(`--rows must be an integer of at least 2, not ${values.rows}`);
    await runDemo({ keep: values.keep ?? false, rows });
  } catch (err) {
    console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();

/**
 * `npm run bench`: datactl against cp, b3sum, restic, borg and git-lfs on the same generated data,
 * the same disk, in one run. See docs/benchmarks.md.
 *
 *   npm run bench                       full sizes (~1 GB CSV, 100k files, ~1 GB Parquet), 3 runs
 *   npm run bench -- --quick            smoke check (~64 MB CSV, 5k files)
 *   npm run bench -- --only a,b --runs 5 --size 0.25
 *   npm run bench -- --profile --only a,c   CPU profiles of datactl's client and server, one run
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cleanupAll, removeTree } from './cleanup.js';
import { datactlTool, snapshotBuild } from './datactl.js';
import { environment } from './env.js';
import { formatBytes, formatSeconds, writeMarkdown } from './markdown.js';
import { initClockTicks, rusageMethod, spread } from './measure.js';
import { peers } from './peers.js';
import { summarizeProfileDir } from './profile.js';
import { aggregate, ratios, writeJson, type Results, type ToolStatus } from './report.js';
import { runAll, type ScenarioProbe } from './runner.js';
import { checkTargets } from './targets.js';
import type { Tool } from './tool.js';
import { cacheKey, prepareScenarios, SCENARIO_OF, sizesFor, WORKLOAD_IDS, type ScenarioId, type WorkloadId } from './workloads.js';

const USAGE = `usage: npm run bench -- [options]
  --quick          small sizes for a smoke check (~64 MB CSV, 5k files, ~64 MB Parquet)
  --size X         scale the sizes by X (e.g. 0.25)
  --runs N         runs per step; figures are the median (default 3)
  --only a,b,...   workloads: a CSV, b CSV edited, c small files, d one file changed, e Parquet
  --tools t,...    only these tools (datactl, cp, cp+sync, b3sum, restic, borg, git-lfs)
  --seed N         workload seed (default 42)
  --work DIR       work dir: cached workloads, temp stores (default bench/work)
  --out DIR        where results.json and RESULTS.md go (default bench/; bench/work/ with --quick)
  --profile        instead of measuring: CPU-profile datactl's client and server, one run
  --rerender       rewrite RESULTS.md (figures, ratios, targets) from the samples in results.json
`;

/** dist/bench/run.js -> the checkout root (BENCH_ROOT overrides, for running from elsewhere). */
const ROOT = process.env['BENCH_ROOT'] ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      size: { type: 'string', default: '1' },
      runs: { type: 'string', default: '3' },
      only: { type: 'string', default: WORKLOAD_IDS.join(',') },
      tools: { type: 'string' },
      seed: { type: 'string', default: '42' },
      work: { type: 'string', default: join(ROOT, 'bench', 'work') },
      out: { type: 'string' },
      profile: { type: 'boolean', default: false },
      rerender: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const number = (name: string, v: string, ok: (n: number) => boolean) => {
    const n = Number(v);
    if (!ok(n)) throw new Error(`--${name} ${v}: not valid\n${USAGE}`);
    return n;
  };
  const only = values.only.split(',').map((s) => s.trim()) as WorkloadId[];
  const unknown = only.filter((w) => !WORKLOAD_IDS.includes(w));
  if (unknown.length) throw new Error(`--only: unknown workload ${unknown.join(', ')}\n${USAGE}`);
  const quick = values.quick;
  return {
    help: values.help,
    quick,
    size: number('size', values.size, (n) => n > 0),
    runs: number('runs', values.runs, (n) => Number.isInteger(n) && n >= 1),
    only: new Set(only),
    tools: values.tools?.split(',').map((s) => s.trim()),
    seed: number('seed', values.seed, (n) => Number.isInteger(n) && n >= 0),
    work: resolve(values.work),
    out: resolve(values.out ?? (quick ? values.work : join(ROOT, 'bench'))),
    profile: values.profile,
    rerender: values.rerender,
  };
}

type Options = ReturnType<typeof options>;

const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

async function probeTools(tools: Tool[]): Promise<ToolStatus[]> {
  const statuses: ToolStatus[] = [];
  for (const tool of tools) {
    const probe = await tool.probe();
    log(`${tool.name.padEnd(8)} ${probe.available ? probe.version : probe.reason}`);
    statuses.push({ name: tool.name, what: tool.what, probe });
  }
  return statuses;
}

async function profileRun(opts: Options, bin: string, scenarioIds: ScenarioId[]): Promise<void> {
  const profileDir = join(opts.work, 'profiles', new Date().toISOString().replace(/[:.]/g, '-'));
  const scenarios = await prepareScenarios(join(opts.work, 'data', cacheKey(opts.seed, sizesFor(opts.quick, opts.size))), opts.seed, sizesFor(opts.quick, opts.size), scenarioIds, log);
  const tool = datactlTool({ bin, profileDir });
  await runAll({ scenarios, tools: [tool], runs: 1, selected: opts.only, tmpDir: join(opts.work, 'tmp'), log });
  const summary = await summarizeProfileDir(profileDir);
  await writeFile(join(profileDir, 'SUMMARY.md'), `# CPU profiles\n\n${summary}\n`);
  process.stdout.write(`${summary}\nprofiles and SUMMARY.md in ${profileDir}\n`);
}

function printSummary(results: Results): void {
  const lines: string[] = [];
  for (const w of results.workloads) {
    const perTool = results.figures[w.id];
    if (!perTool) continue;
    lines.push(`(${w.id}) ${w.title}: ${formatBytes(w.bytes)}`);
    for (const [tool, f] of Object.entries(perTool)) {
      const r = results.ratios[w.id]?.[tool];
      const parts = [
        f.put ? `put ${formatSeconds(f.put.wallMs.median)} s (${f.put.mbPerSec?.toFixed(0)} MB/s)` : '',
        f.get ? `get ${formatSeconds(f.get.wallMs.median)} s` : '',
        f.put?.storeAddedBytes ? `store +${formatBytes(f.put.storeAddedBytes.median)}` : '',
        f['put-changed-only'] ? `changed file only ${formatSeconds(f['put-changed-only'].wallMs.median)} s` : '',
        r?.putTime ? `datactl/${tool} put ${r.putTime.toFixed(2)}` : '',
      ];
      lines.push(`  ${tool.padEnd(8)} ${parts.filter(Boolean).join(', ')}`);
    }
    for (const t of results.tools.filter((t) => !t.probe.available)) lines.push(`  ${t.name.padEnd(8)} ${t.probe.available ? '' : t.probe.reason}`);
  }
  lines.push('', 'targets:');
  for (const t of results.targets) lines.push(`  ${t.result.padEnd(7)} ${t.target}: ${t.measured}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function measureRun(opts: Options, bin: string, scenarioIds: ScenarioId[], root: string): Promise<void> {
  const sizes = sizesFor(opts.quick, opts.size);
  const dataDir = join(opts.work, 'data', cacheKey(opts.seed, sizes));
  const all = [datactlTool({ bin }), ...peers()];
  const chosen = opts.tools ? all.filter((t) => opts.tools!.includes(t.name)) : all;
  const statuses = await probeTools(chosen);
  const available = chosen.filter((t) => statuses.find((s) => s.name === t.name)!.probe.available);
  const env = await environment(root, opts.work, await rusageMethod());
  const scenarios = await prepareScenarios(dataDir, opts.seed, sizes, scenarioIds, log);
  const started = Date.now();
  const { samples, errors, probes } = await runAll({ scenarios, tools: available, runs: opts.runs, selected: opts.only, tmpDir: join(opts.work, 'tmp'), log });
  const load = spread(samples.map((s) => s.load1));
  const steal = spread(samples.map((s) => s.stealPct));
  const workloads = scenarios.flatMap((s) => s.versions).filter((w) => opts.only.has(w.id));
  const results: Results = {
    generatedAt: new Date().toISOString(),
    environment: { ...env, loadDuringRun: load ? `1-min load ${load.min.toFixed(2)}–${load.max.toFixed(2)}, median ${load.median.toFixed(2)}` : 'n/a', stealDuringRun: steal ? `CPU stolen by the hypervisor per step ${steal.min.toFixed(0)}–${steal.max.toFixed(0)}%, median ${steal.median.toFixed(0)}%` : 'not reported by this kernel', loadAtEnd: loadavg().map((n) => n.toFixed(2)).join(' '), durationMinutes: Math.round((Date.now() - started) / 60000), ...(probes.length > 0 ? { fileCreation: describeProbes(probes) } : {}) },
    parameters: { seed: opts.seed, quick: opts.quick, size: opts.size, runs: opts.runs, workloads: [...opts.only].join(','), sizes, dataDir },
    tools: statuses,
    workloads,
    figures: {},
    ratios: {},
    targets: [],
    errors,
    samples,
  };
  await publish(results, opts.out);
  if (errors.length) process.exitCode = 1;
  log('removing the outputs kept until now (minutes for millions of small files)');
  await removeTree(join(opts.work, 'tmp'));
}

/** One line on the file-creation probes: speed before each small-file scenario, and any wait for it. */
function describeProbes(probes: readonly ScenarioProbe[]): string {
  const each = probes.map((p) => {
    const wait = p.waitedMs > 0 ? `, ${p.lastUs.toFixed(0)} after waiting ${(p.waitedMs / 1000).toFixed(0)} s` : '';
    return `run ${p.run} ${p.scenario}: ${p.firstUs.toFixed(0)} us/file${wait}${p.slow ? ' (slow)' : ''}`;
  });
  return `empty files created before each small-file scenario (bench/create-probe.ts): ${each.join('; ')}`;
}

/** Figures, ratios and targets from the samples, then results.json, RESULTS.md and a summary. */
async function publish(results: Results, out: string): Promise<void> {
  results.figures = aggregate(results.samples, results.workloads);
  results.ratios = ratios(results.figures);
  results.targets = checkTargets(results);
  await mkdir(out, { recursive: true });
  await writeJson(join(out, 'results.json'), results);
  await writeMarkdown(join(out, 'RESULTS.md'), results);
  printSummary(results);
  log(`wrote ${join(out, 'results.json')} and ${join(out, 'RESULTS.md')}`);
}

/** Re-derive everything from a previous run's samples (after a change to the report itself). */
async function rerender(out: string): Promise<void> {
  const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as Results;
  await publish(results, out);
}

async function main(): Promise<void> {
  const opts = options();
  if (opts.help) return void process.stdout.write(USAGE);
  if (opts.rerender) return rerender(opts.out);
  await initClockTicks();
  const scenarioIds = [...new Set([...opts.only].map((w) => SCENARIO_OF[w]))].sort((x, y) => ['csv', 'tree', 'parquet'].indexOf(x) - ['csv', 'tree', 'parquet'].indexOf(y));
  await removeTree(join(opts.work, 'tmp')); // leftovers of a killed run
  const bin = await snapshotBuild(ROOT, join(opts.work, 'build'));
  if (opts.profile) await profileRun(opts, bin, scenarioIds);
  else await measureRun(opts, bin, scenarioIds, ROOT);
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());

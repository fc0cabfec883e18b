/**
 * Drives every tool through every selected scenario, `runs` times, and collects one sample per
 * measured step. Runs are the outer loop and tools the inner one, so a slow drift in machine load
 * spreads over all tools instead of landing on whichever ran last. The tool order rotates by one
 * each run, so no tool is always the first of a scenario: on this VM the first tools to write a GB
 * through the page cache in a scenario paid far more for it than the later ones (the Parquet get,
 * datactl and cp, first and second: 11.5-20.3 s in every run; cp+sync, third: 1.2-2.3 s in runs 2
 * and 3; restic and borg 3.6-4.0 s).
 *
 * Between steps the file system is synced (unmeasured): a tool that does not fsync would
 * otherwise leave its dirty pages to be flushed during the next step, possibly another tool's.
 *
 * Before each tool's session the scenario's data is read (unmeasured), so every tool starts from
 * a warm page cache. Warming once per bench was not enough: a run writes tens of GB (stores,
 * outputs), the kernel evicts the data read long ago, and the first tool of the next run read it
 * cold (measured here: the 100k-file put 4.4 s warm, 7.8 s after dropping caches, with 2.9
 * instead of 0.8 s of the client's CPU in the kernel; the first tool of runs 2 and 3 was slower by
 * as much while the tools after it, reading what it had warmed, were not).
 *
 * Outputs and stores are not deleted between steps but moved to a trash directory: emptied after
 * each scenario of a few large files, and only after the results are written for the 100k-file
 * scenario. On ext4 without a journal (this machine's disk) creating files next to inodes freed
 * minutes ago makes the allocator probe every one of them (measured here: 100k files took 33-73 s
 * right after deleting 100k others, 3.6 s on a quiet disk; after deleting a run's ~2M tree files
 * the first tools of the next run were still 2x slower five minutes later). Deleting one tool's output just
 * before the next tool's get measured that, for whichever tools came first, instead of the tools.
 * The tree scenario therefore needs ~8 GB of free disk per run until the end.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rename } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { removeTree, track } from './cleanup.js';
import { waitForFastCreates, type CreateProbe } from './create-probe.js';
import { diskUsage, stolenCpuMs } from './measure.js';
import type { Session, StepSample, Target, Tool } from './tool.js';
import type { Scenario, WorkloadId, WorkloadInfo } from './workloads.js';

const execFileP = promisify(execFile);

export type StepName = 'put' | 'get' | 'put-changed-only';

export interface Sample {
  run: number;
  workload: WorkloadId;
  tool: string;
  step: StepName;
  wallMs: number;
  cpuMs: number | null;
  /** The kernel's part of cpuMs (and of serverCpuMs below). */
  sysCpuMs: number | null;
  clientPeakRssBytes: number | null;
  serverPeakRssBytes: number | null;
  serverCpuMs: number | null;
  serverSysCpuMs: number | null;
  sentBytes: number | null;
  /** Growth of the tool's store over a put (du -sb before/after); null for steps that store nothing. */
  storeAddedBytes: number | null;
  /** 1-minute load average when the step ended. */
  load1: number;
  /** Share of the machine's CPU time the hypervisor gave to other guests during the step, in %; null where unknown. */
  stealPct: number | null;
}

/** The file-creation probe run before a scenario of many small files (create-probe.ts). */
export interface ScenarioProbe extends CreateProbe {
  run: number;
  scenario: string;
}

export interface RunError {
  run: number;
  scenario: string;
  tool: string;
  message: string;
}

export interface Plan {
  scenarios: Scenario[];
  tools: Tool[];
  runs: number;
  selected: ReadonlySet<WorkloadId>;
  tmpDir: string;
  log: (message: string) => void;
}

/** Where removed outputs and stores wait to be deleted (see the header). */
class Trash {
  private next = 0;

  constructor(private readonly dir: string) {}

  async discard(path: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await rename(path, join(this.dir, String(this.next++))).catch(() => removeTree(path));
  }

  async empty(): Promise<void> {
    if (this.next === 0) return;
    await removeTree(this.dir);
    this.next = 0;
  }
}

/** Flush dirty pages of the file system under `path` (syncfs). */
export async function settle(path: string): Promise<void> {
  await execFileP('sync', ['-f', path]).catch(() => execFileP('sync'));
}

/** Starts counting stolen CPU time; the function returns the share stolen since, over `wallMs`. */
function stealMeter(): (wallMs: number) => number | null {
  const before = stolenCpuMs();
  return (wallMs) => {
    const after = stolenCpuMs();
    return before === null || after === null || wallMs <= 0 ? null : (100 * (after - before)) / (wallMs * cpus().length);
  };
}

function toSample(run: number, workload: WorkloadId, tool: string, step: StepName, s: StepSample, storeAdded: number | null, stealPct: number | null): Sample {
  return {
    run,
    workload,
    tool,
    step,
    wallMs: s.wallMs,
    cpuMs: s.cpuMs,
    sysCpuMs: s.sysCpuMs,
    clientPeakRssBytes: s.peakRssBytes,
    serverPeakRssBytes: s.server?.peakRssBytes ?? null,
    serverCpuMs: s.server?.cpuMs ?? null,
    serverSysCpuMs: s.server?.sysCpuMs ?? null,
    sentBytes: s.sentBytes ?? null,
    storeAddedBytes: storeAdded,
    load1: loadavg()[0]!,
    stealPct,
  };
}

/** One session: a fresh store, the scenario's versions put (and got) in order. */
class SessionRun {
  readonly samples: Sample[] = [];

  constructor(
    private readonly plan: Plan,
    private readonly run: number,
    private readonly scenario: Scenario,
    private readonly tool: Tool,
    private readonly session: Session,
    private readonly trash: Trash,
  ) {}

  private target(version: WorkloadInfo, step: string): Target {
    return { name: this.scenario.name, kind: this.scenario.kind, label: `${version.id}-${step}-run${this.run}` };
  }

  /** Measure a put, with the store's growth around it. */
  private async put(version: WorkloadInfo, step: StepName, act: (t: Target) => Promise<StepSample>): Promise<void> {
    await settle(this.session.stageDir);
    const before = await this.session.storeBytes();
    const steal = stealMeter();
    const sample = await act(this.target(version, step));
    const stealPct = steal(sample.wallMs);
    const after = await this.session.storeBytes();
    const added = before === undefined || after === undefined ? null : after - before;
    if (this.plan.selected.has(version.id)) this.samples.push(toSample(this.run, version.id, this.tool.name, step, sample, added, stealPct));
  }

  private async get(version: WorkloadInfo): Promise<void> {
    const { get } = this.session;
    if (!get || !this.plan.selected.has(version.id)) return;
    const outDir = await mkdtemp(join(this.plan.tmpDir, `out-${this.tool.name}-`));
    try {
      await settle(outDir);
      const steal = stealMeter();
      const sample = await get.call(this.session, this.target(version, 'get'), outDir);
      const stealPct = steal(sample.wallMs);
      // A get that wrote less than the data is broken, and its time would look like a win.
      const got = await diskUsage(outDir);
      if (got < version.bytes) throw new Error(`${this.tool.name} get of (${version.id}) wrote ${got} bytes, expected at least ${version.bytes}`);
      this.samples.push(toSample(this.run, version.id, this.tool.name, 'get', sample, null, stealPct));
    } finally {
      await this.trash.discard(outDir);
    }
  }

  async execute(): Promise<void> {
    const { versions } = this.scenario;
    // A version is put when it, or a later one that builds on it, is selected.
    const last = versions.findLastIndex((v) => this.plan.selected.has(v.id));
    for (let i = 0; i <= last; i++) {
      await this.scenario.stage(this.session.stageDir, i);
      await this.put(versions[i]!, 'put', (t) => this.session.put(t));
      await this.get(versions[i]!);
    }
    const changed = versions[1];
    const { putOne } = this.session;
    if (this.scenario.stageExtra && putOne && changed && this.plan.selected.has(changed.id)) {
      const rel = await this.scenario.stageExtra(this.session.stageDir);
      await this.put(changed, 'put-changed-only', (t) => putOne.call(this.session, t, rel));
    }
  }
}

async function runSession(plan: Plan, run: number, scenario: Scenario, tool: Tool, trash: Trash): Promise<Sample[]> {
  const dir = await mkdtemp(join(plan.tmpDir, `${tool.name}-${scenario.id}-`));
  const untrack = track(`temp store ${dir}`, () => removeTree(dir));
  let session: Session | undefined;
  try {
    await warmUp(scenario.sources);
    session = await tool.open(dir);
    const sessionRun = new SessionRun(plan, run, scenario, tool, session, trash);
    await sessionRun.execute();
    return sessionRun.samples;
  } finally {
    await session?.close();
    await trash.discard(dir);
    untrack();
    await settle(plan.tmpDir);
  }
}

/** Read a scenario's data (files and whole trees) into the page cache. */
async function warmUp(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    await execFileP('sh', ['-c', 'find "$1" -type f -print0 | xargs -0 cat > /dev/null', 'sh', path], { maxBuffer: 1 << 20 });
  }
}

export async function runAll(plan: Plan): Promise<{ samples: Sample[]; errors: RunError[]; probes: ScenarioProbe[] }> {
  await mkdir(plan.tmpDir, { recursive: true });
  const samples: Sample[] = [];
  const errors: RunError[] = [];
  const probes: ScenarioProbe[] = [];
  const trashOf = { file: new Trash(join(plan.tmpDir, 'trash-files')), tree: new Trash(join(plan.tmpDir, 'trash-trees')) };
  for (let run = 1; run <= plan.runs; run++) {
    for (const scenario of plan.scenarios) {
      const trash = trashOf[scenario.kind];
      if (scenario.kind === 'tree') probes.push({ run, scenario: scenario.id, ...(await waitForFastCreates(plan.tmpDir, plan.log)) });
      for (const tool of rotate(plan.tools, run - 1)) {
        const started = Date.now();
        plan.log(`run ${run}/${plan.runs}  ${scenario.id.padEnd(7)}  ${tool.name.padEnd(8)} ...`);
        try {
          const got = await runSession(plan, run, scenario, tool, trash);
          samples.push(...got);
          plan.log(`run ${run}/${plan.runs}  ${scenario.id.padEnd(7)}  ${tool.name.padEnd(8)} done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${describe(got)}`);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          errors.push({ run, scenario: scenario.id, tool: tool.name, message });
          plan.log(`run ${run}/${plan.runs}  ${scenario.id.padEnd(7)}  ${tool.name.padEnd(8)} FAILED: ${message.split('\n')[0]}`);
        }
      }
      if (scenario.kind === 'file') await trash.empty();
      await settle(plan.tmpDir);
    }
  }
  // The tree trash stays in tmpDir: the caller removes it once the results are written.
  return { samples, errors, probes };
}

/** `items` starting at index `by` (modulo its length), wrapping around. */
function rotate<T>(items: readonly T[], by: number): T[] {
  const k = items.length === 0 ? 0 : by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

function describe(samples: readonly Sample[]): string {
  return samples.map((s) => `${s.workload} ${s.step} ${(s.wallMs / 1000).toFixed(2)} s`).join(', ');
}

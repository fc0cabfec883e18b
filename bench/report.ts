/**
 * Samples -> figures (median, min, max per workload, tool and step), ratios datactl/peer, and the
 * two outputs: bench/results.json (machine-readable) and bench/RESULTS.md (the table the README
 * links). Sizes are decimal: 1 MB = 10^6 bytes, throughput in MB/s.
 */
import { writeFile } from 'node:fs/promises';
import { spread, type Spread } from './measure.js';
import type { RunError, Sample, StepName } from './runner.js';
import type { TargetCheck } from './targets.js';
import type { Probe } from './tool.js';
import type { WorkloadId, WorkloadInfo } from './workloads.js';

export interface StepFigures {
  wallMs: Spread;
  cpuMs: Spread | null;
  sysCpuMs: Spread | null;
  clientPeakRssBytes: Spread | null;
  serverPeakRssBytes: Spread | null;
  serverCpuMs: Spread | null;
  serverSysCpuMs: Spread | null;
  sentBytes: Spread | null;
  storeAddedBytes: Spread | null;
  /** Workload bytes / median wall time, in MB/s; null when the step moves only part of it. */
  mbPerSec: number | null;
  /** 1-minute load averages seen at the end of these steps. */
  load1: Spread | null;
  /** % of the machine's CPU time stolen by the hypervisor during these steps. */
  stealPct: Spread | null;
}

export type ToolFigures = Partial<Record<StepName, StepFigures>>;

/** datactl's median divided by the peer's: below 1 means datactl is faster (or smaller). */
export interface Ratios {
  putTime: number | null;
  getTime: number | null;
  storeAdded: number | null;
  /** datactl client + server peak RSS over the peer's peak RSS, on put. */
  putPeakRss: number | null;
}

export interface ToolStatus {
  name: string;
  what: { put: string; get: string };
  probe: Probe;
}

export interface Results {
  generatedAt: string;
  environment: Record<string, unknown>;
  parameters: Record<string, unknown>;
  tools: ToolStatus[];
  workloads: WorkloadInfo[];
  /** figures[workload][tool][step] */
  figures: Partial<Record<WorkloadId, Record<string, ToolFigures>>>;
  ratios: Partial<Record<WorkloadId, Record<string, Ratios>>>;
  targets: TargetCheck[];
  errors: RunError[];
  samples: Sample[];
}

function figuresOf(samples: readonly Sample[], bytes: number | null): StepFigures {
  const wallMs = spread(samples.map((s) => s.wallMs))!;
  const of = (key: keyof Sample) => spread(samples.map((s) => s[key] as number | null));
  return {
    wallMs,
    cpuMs: of('cpuMs'),
    sysCpuMs: of('sysCpuMs'),
    clientPeakRssBytes: of('clientPeakRssBytes'),
    serverPeakRssBytes: of('serverPeakRssBytes'),
    serverCpuMs: of('serverCpuMs'),
    serverSysCpuMs: of('serverSysCpuMs'),
    sentBytes: of('sentBytes'),
    storeAddedBytes: of('storeAddedBytes'),
    mbPerSec: bytes === null ? null : bytes / 1e6 / (wallMs.median / 1000),
    load1: of('load1'),
    stealPct: of('stealPct'),
  };
}

export function aggregate(samples: readonly Sample[], workloads: readonly WorkloadInfo[]): Results['figures'] {
  const out: Results['figures'] = {};
  for (const w of workloads) {
    const mine = samples.filter((s) => s.workload === w.id);
    if (mine.length === 0) continue;
    const perTool: Record<string, ToolFigures> = {};
    for (const tool of new Set(mine.map((s) => s.tool))) {
      const figures: ToolFigures = {};
      for (const step of ['put', 'get', 'put-changed-only'] as const) {
        const group = mine.filter((s) => s.tool === tool && s.step === step);
        // "changed file only" puts one small file: a throughput over the whole tree would be fiction.
        if (group.length) figures[step] = figuresOf(group, step === 'put-changed-only' ? null : w.bytes);
      }
      perTool[tool] = figures;
    }
    out[w.id] = perTool;
  }
  return out;
}

const divide = (a: number | undefined | null, b: number | undefined | null) => (a != null && b != null && b > 0 ? a / b : null);

export function ratios(figures: Results['figures']): Results['ratios'] {
  const out: Results['ratios'] = {};
  for (const [workload, perTool] of Object.entries(figures) as [WorkloadId, Record<string, ToolFigures>][]) {
    const d = perTool['datactl'];
    if (!d) continue;
    const dRss = d.put?.clientPeakRssBytes && d.put.serverPeakRssBytes ? d.put.clientPeakRssBytes.median + d.put.serverPeakRssBytes.median : null;
    const row: Record<string, Ratios> = {};
    for (const [tool, f] of Object.entries(perTool)) {
      if (tool === 'datactl') continue;
      row[tool] = {
        putTime: divide(d.put?.wallMs.median, f.put?.wallMs.median),
        getTime: divide(d.get?.wallMs.median, f.get?.wallMs.median),
        storeAdded: divide(d.put?.storeAddedBytes?.median, f.put?.storeAddedBytes?.median),
        putPeakRss: divide(dRss, f.put?.clientPeakRssBytes?.median),
      };
    }
    out[workload] = row;
  }
  return out;
}

export async function writeJson(path: string, results: Results): Promise<void> {
  await writeFile(path, `${JSON.stringify(results, null, 2)}\n`);
}

/**
 * The targets the benchmark issue sets, checked against the medians (memory: against the worst
 * sample, since a peak is a limit). A target whose inputs were not measured (workload not
 * selected, peer missing or failed) is UNKNOWN, never PASS.
 */
import { formatBytes, formatSeconds } from './markdown.js';
import type { Results, StepFigures } from './report.js';
import type { Sample } from './runner.js';
import type { WorkloadId } from './workloads.js';

export interface TargetCheck {
  target: string;
  measured: string;
  result: 'PASS' | 'MISS' | 'UNKNOWN';
}

type Figures = Results['figures'];

const RSS_LIMIT = 200e6;

function step(figures: Figures, w: WorkloadId, tool: string, name: 'put' | 'get' | 'put-changed-only'): StepFigures | undefined {
  return figures[w]?.[tool]?.[name];
}

const verdict = (ok: boolean): TargetCheck['result'] => (ok ? 'PASS' : 'MISS');

function fasterThan(figures: Figures, w: WorkloadId, peer: string, factor: number, target: string): TargetCheck {
  const d = step(figures, w, 'datactl', 'put');
  const p = step(figures, w, peer, 'put');
  if (!d || !p) return { target, measured: `not measured (${!d ? 'datactl' : peer} on (${w}))`, result: 'UNKNOWN' };
  const speedup = p.wallMs.median / d.wallMs.median;
  return {
    target,
    measured: `datactl ${formatSeconds(d.wallMs.median)} s, ${peer} ${formatSeconds(p.wallMs.median)} s: ${speedup.toFixed(2)}x`,
    result: verdict(speedup >= factor),
  };
}

function storeGrowth(results: Results): TargetCheck {
  const target = 'store added by v2 (b) <= 1.5x the edited bytes';
  const added = step(results.figures, 'b', 'datactl', 'put')?.storeAddedBytes?.median;
  const edited = results.workloads.find((w) => w.id === 'b')?.editedBytes;
  if (added == null || !edited) return { target, measured: 'not measured', result: 'UNKNOWN' };
  return { target, measured: `${formatBytes(added)} added for ${formatBytes(edited)} edited: ${(added / edited).toFixed(2)}x`, result: verdict(added <= 1.5 * edited) };
}

function getVsPut(results: Results): TargetCheck {
  const target = 'get at least as fast as put (datactl, every workload)';
  const parts: string[] = [];
  let ok = true;
  for (const w of results.workloads) {
    const put = step(results.figures, w.id, 'datactl', 'put');
    const get = step(results.figures, w.id, 'datactl', 'get');
    if (!put || !get) continue;
    ok &&= get.wallMs.median <= put.wallMs.median;
    parts.push(`${w.id}: get ${formatSeconds(get.wallMs.median)} / put ${formatSeconds(put.wallMs.median)} s${get.wallMs.median <= put.wallMs.median ? '' : ' (slower)'}`);
  }
  return parts.length ? { target, measured: parts.join('; '), result: verdict(ok) } : { target, measured: 'not measured', result: 'UNKNOWN' };
}

function smallChange(figures: Figures): TargetCheck {
  const target = 'workload d under 0.5 s end to end (re-put of the tree)';
  const d = step(figures, 'd', 'datactl', 'put');
  if (!d) return { target, measured: 'not measured', result: 'UNKNOWN' };
  const only = step(figures, 'd', 'datactl', 'put-changed-only');
  const note = only ? `; putting just the changed file: ${formatSeconds(only.wallMs.median)} s` : '';
  return { target, measured: `${formatSeconds(d.wallMs.median)} s${note}`, result: verdict(d.wallMs.median < 500) };
}

function peakRss(samples: readonly Sample[]): TargetCheck {
  const target = 'peak RSS under 200 MB, client and server (worst datactl step)';
  const mine = samples.filter((s) => s.tool === 'datactl');
  const max = (key: 'clientPeakRssBytes' | 'serverPeakRssBytes') => {
    const worst = mine.reduce<Sample | undefined>((m, s) => ((s[key] ?? -1) > (m?.[key] ?? -1) ? s : m), undefined);
    return worst?.[key] != null ? { bytes: worst[key]!, where: `${worst.workload} ${worst.step}` } : undefined;
  };
  const client = max('clientPeakRssBytes');
  const server = max('serverPeakRssBytes');
  if (!client || !server) return { target, measured: 'not measured', result: 'UNKNOWN' };
  return {
    target,
    measured: `client ${formatBytes(client.bytes)} (${client.where}), server ${formatBytes(server.bytes)} (${server.where})`,
    result: verdict(client.bytes < RSS_LIMIT && server.bytes < RSS_LIMIT),
  };
}

export function checkTargets(results: Results): TargetCheck[] {
  return [
    fasterThan(results.figures, 'a', 'borg', 2, 'datactl put v1 (a) at least 2x faster than borg'),
    storeGrowth(results),
    getVsPut(results),
    fasterThan(results.figures, 'c', 'restic', 2, 'workload c at least 2x faster than restic'),
    smallChange(results.figures),
    peakRss(results.samples),
  ];
}

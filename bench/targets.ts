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

/**
 * Judged on the full versions (a, c, e), where put and get move the same bytes. For (b) and (d)
 * the put sends only the delta while the get fetches everything, so they are listed, not judged.
 */
function getVsPut(results: Results): TargetCheck {
  const target = 'get at least as fast as put (full versions a, c, e; b and d listed only)';
  const parts: string[] = [];
  let ok = true;
  let judged = 0;
  for (const w of results.workloads) {
    const put = step(results.figures, w.id, 'datactl', 'put');
    const get = step(results.figures, w.id, 'datactl', 'get');
    if (!put || !get) continue;
    const faster = get.wallMs.median <= put.wallMs.median;
    const full = w.editedBytes === undefined;
    if (full) {
      ok &&= faster;
      judged++;
    }
    parts.push(`${w.id}: get ${formatSeconds(get.wallMs.median)} / put ${formatSeconds(put.wallMs.median)} s${faster ? '' : ' (get slower)'}${full ? '' : ' (delta put, not judged)'}`);
  }
  return judged ? { target, measured: parts.join('; '), result: verdict(ok) } : { target, measured: parts.join('; ') || 'not measured', result: 'UNKNOWN' };
}

function smallChange(figures: Figures): TargetCheck {
  const target = 'workload d under 0.5 s end to end (re-put of the tree)';
  const d = step(figures, 'd', 'datactl', 'put');
  if (!d) return { target, measured: 'not measured', result: 'UNKNOWN' };
  const only = step(figures, 'd', 'datactl', 'put-changed-only');
  const note = only ? `; putting just the changed file: ${formatSeconds(only.wallMs.median)} s` : '';
  return { target, measured: `${formatSeconds(d.wallMs.median)} s${note}`, result: verdict(d.wallMs.median < 500) };
}

/** The worst client and server peak per workload, so the report shows where memory grows. */
function peakRss(samples: readonly Sample[]): TargetCheck {
  const target = 'peak RSS under 200 MB, client and server (worst datactl step)';
  const mine = samples.filter((s) => s.tool === 'datactl');
  const worst = (key: 'clientPeakRssBytes' | 'serverPeakRssBytes') => {
    const perWorkload = new Map<string, number>();
    for (const s of mine) if (s[key] != null) perWorkload.set(s.workload, Math.max(perWorkload.get(s.workload) ?? 0, s[key]!));
    return perWorkload;
  };
  const client = worst('clientPeakRssBytes');
  const server = worst('serverPeakRssBytes');
  if (client.size === 0 || server.size === 0) return { target, measured: 'not measured', result: 'UNKNOWN' };
  const list = (m: Map<string, number>) => [...m.entries()].map(([w, b]) => `${w} ${(b / 1e6).toFixed(0)}`).join(', ');
  const max = (m: Map<string, number>) => Math.max(...m.values());
  return {
    target,
    measured: `MB per workload: client ${list(client)}; server ${list(server)}`,
    result: verdict(max(client) < RSS_LIMIT && max(server) < RSS_LIMIT),
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

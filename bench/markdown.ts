/**
 * bench/RESULTS.md: one table per workload (datactl first, then every peer, missing ones
 * included), the targets with PASS/MISS, and the environment the figures came from.
 */
import { writeFile } from 'node:fs/promises';
import type { Results, StepFigures, ToolFigures } from './report.js';
import type { Spread } from './measure.js';
import type { WorkloadInfo } from './workloads.js';

export function formatBytes(n: number | null | undefined): string {
  if (n == null) return '–';
  const abs = Math.abs(n);
  if (abs >= 1e10) return `${(n / 1e9).toFixed(2)} GB`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (abs >= 1e3) return `${(n / 1e3).toFixed(1)} KB`;
  return `${n} B`;
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return s >= 10 ? s.toFixed(1) : s >= 1 ? s.toFixed(2) : s.toFixed(3);
}

/** `median (min–max)` of a time; only the median when all runs agree or there was one. */
function time(s: Spread | undefined): string {
  if (!s) return '–';
  return s.n > 1 ? `${formatSeconds(s.median)} (${formatSeconds(s.min)}–${formatSeconds(s.max)})` : formatSeconds(s.median);
}

const mb = (s: Spread | null | undefined) => (s ? formatBytes(s.median) : '–');
const rate = (f: StepFigures | undefined) => (f?.mbPerSec != null ? f.mbPerSec.toFixed(f.mbPerSec >= 100 ? 0 : 1) : '–');
const ratio = (r: number | null | undefined) => (r == null ? '–' : r.toFixed(2));
/** Client + server CPU, with the kernel's part in parentheses where it was measured. */
function cpu(f: StepFigures | undefined): string {
  if (!f?.cpuMs) return '–';
  const total = formatSeconds(f.cpuMs.median + (f.serverCpuMs?.median ?? 0));
  if (!f.sysCpuMs || (f.serverCpuMs && !f.serverSysCpuMs)) return total;
  return `${total} (${formatSeconds(f.sysCpuMs.median + (f.serverSysCpuMs?.median ?? 0))})`;
}

function rss(f: StepFigures | undefined): string {
  if (!f) return '–';
  const client = mb(f.clientPeakRssBytes);
  return f.serverPeakRssBytes ? `${client} / ${mb(f.serverPeakRssBytes)}` : client;
}

const HEADER = [
  '| tool | put s | put MB/s | get s | get MB/s | store added | sent | put CPU s (kernel) | put peak RSS (client / server) | get peak RSS | datactl ÷ peer (put / get / store) |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];

function row(label: string, f: ToolFigures, ratios: string): string {
  const { put, get } = f;
  return `| ${label} | ${time(put?.wallMs)} | ${rate(put)} | ${time(get?.wallMs)} | ${rate(get)} | ${mb(put?.storeAddedBytes)} | ${mb(put?.sentBytes)} | ${cpu(put)} | ${rss(put)} | ${rss(get)} | ${ratios} |`;
}

function workloadTable(results: Results, w: WorkloadInfo): string[] {
  const perTool = results.figures[w.id] ?? {};
  const lines = [`### (${w.id}) ${w.title}`, '', `${formatBytes(w.bytes)} in ${w.files} file${w.files === 1 ? '' : 's'}${w.editedBytes ? `; ${formatBytes(w.editedBytes)} new in this version` : ''}.`, '', ...HEADER];
  for (const tool of results.tools) {
    const f = perTool[tool.name];
    const error = results.errors.find((e) => e.tool === tool.name && e.scenario === scenarioOf(w.id));
    if (!tool.probe.available) lines.push(`| ${tool.name} | ${tool.probe.reason} | | | | | | | | | |`);
    else if (!f) lines.push(`| ${tool.name} | ${error ? `error: ${error.message.split('\n')[0]!.slice(0, 120)}` : 'not measured'} | | | | | | | | | |`);
    else {
      const r = results.ratios[w.id]?.[tool.name];
      lines.push(row(tool.name, f, tool.name === 'datactl' ? '–' : `${ratio(r?.putTime)} / ${ratio(r?.getTime)} / ${ratio(r?.storeAdded)}`));
    }
    const only = f?.['put-changed-only'];
    if (only) lines.push(row(`${tool.name}, changed file only`, { put: only }, '–'));
  }
  return [...lines, '', ...stealLine(perTool), ''];
}

/** How much CPU the hypervisor took during each tool's steps: a step that lost a third of it is not comparable. */
function stealLine(perTool: Record<string, ToolFigures>): string[] {
  const parts = Object.entries(perTool).flatMap(([tool, f]) => {
    const steps = Object.values(f).flatMap((fig) => (fig?.stealPct ? [fig.stealPct] : []));
    if (steps.length === 0) return [];
    const worstMedian = Math.max(...steps.map((s) => s.median));
    const max = Math.max(...steps.map((s) => s.max));
    return [`${tool} ${worstMedian.toFixed(0)}% (highest single step ${max.toFixed(0)}%)`];
  });
  return parts.length ? [`CPU stolen by the hypervisor during the steps (median of the worst step): ${parts.join(', ')}.`] : [];
}

const scenarioOf = (id: string) => ({ a: 'csv', b: 'csv', c: 'tree', d: 'tree', e: 'parquet' })[id];

function targetsSection(results: Results): string[] {
  return [
    '## Targets',
    '',
    '| target | measured | result |',
    '| --- | --- | --- |',
    ...results.targets.map((t) => `| ${t.target} | ${t.measured} | **${t.result}** |`),
    '',
  ];
}

function environmentSection(results: Results): string[] {
  const env = Object.entries(results.environment).map(([k, v]) => `- ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const params = Object.entries(results.parameters).map(([k, v]) => `- ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const tools = results.tools.map((t) => `- ${t.name}: ${t.probe.available ? t.probe.version : t.probe.reason}; put = ${t.what.put}; get = ${t.what.get}`);
  return ['## Environment', '', ...env, '', '## Parameters', '', ...params, '', '## Tools', '', ...tools, ''];
}

export function renderMarkdown(results: Results): string {
  const intro = [
    '# datactl benchmark results',
    '',
    `Generated by \`npm run bench\` on ${results.generatedAt}. How to run it and what each figure means:`,
    '[docs/benchmarks.md](../docs/benchmarks.md). Times are the median of the runs with (min–max);',
    'MB = 10^6 bytes; "put CPU s" is user + system time of the client plus, for datactl, the server,',
    'with the system (kernel) part in parentheses;',
    'ratios are datactl\'s median over the peer\'s (below 1: datactl is faster or stores less).',
    '',
  ];
  const tables = results.workloads.filter((w) => results.figures[w.id]).flatMap((w) => workloadTable(results, w));
  const errors = results.errors.length ? ['## Errors', '', ...results.errors.map((e) => `- run ${e.run}, ${e.scenario}, ${e.tool}: ${e.message.split('\n')[0]}`), ''] : [];
  return [...intro, ...targetsSection(results), '## Figures', '', ...tables, ...errors, ...environmentSection(results)].join('\n');
}

export async function writeMarkdown(path: string, results: Results): Promise<void> {
  await writeFile(path, renderMarkdown(results));
}

/**
 * Summaries of V8 CPU profiles (`node --cpu-prof`): self time per function and per file, so a
 * profile run answers "where does datactl's time go" without opening DevTools.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  name: string;
  selfMs: number;
  percent: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  functions: ProfileRow[];
  files: ProfileRow[];
}

/** `file:///…/dist/cli/transfer/put.js` -> `dist/cli/transfer/put.js`; node internals keep their name. */
function shortUrl(url: string): string {
  if (!url) return '';
  const m = /\/(dist\/.*|node_modules\/.*)$/.exec(url);
  return m ? m[1]! : url.replace(/^file:\/\//, '');
}

function frameName(f: CallFrame): string {
  const where = shortUrl(f.url);
  return where ? `${f.functionName || '(anonymous)'} ${where}:${f.lineNumber + 1}` : f.functionName || '(anonymous)';
}

/** Sum each sample's duration (the delta to the next sample) onto its node's key. */
function selfTimes(profile: CpuProfile, key: (f: CallFrame) => string): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const totals = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const frame = byId.get(profile.samples[i]!);
    const us = profile.timeDeltas[i + 1] ?? 0;
    if (!frame) continue;
    const k = key(frame);
    totals.set(k, (totals.get(k) ?? 0) + us / 1000);
  }
  return totals;
}

function top(totals: Map<string, number>, totalMs: number, n: number): ProfileRow[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, selfMs]) => ({ name, selfMs, percent: (100 * selfMs) / totalMs }));
}

export async function summarizeProfile(file: string, n = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const totalMs = profile.timeDeltas.reduce((s, d) => s + d, 0) / 1000;
  const files = selfTimes(profile, (f) => shortUrl(f.url) || f.functionName || '(native)');
  return { file, totalMs, functions: top(selfTimes(profile, frameName), totalMs, n), files: top(files, totalMs, 8) };
}

/** Every profile under `dir` (one subdirectory per process and step), as Markdown. */
export async function summarizeProfileDir(dir: string, n = 15): Promise<string> {
  const lines: string[] = [];
  for (const sub of (await readdir(dir)).sort()) {
    const profiles = (await readdir(join(dir, sub)).catch(() => [] as string[])).filter((f) => f.endsWith('.cpuprofile'));
    for (const p of profiles) {
      const s = await summarizeProfile(join(dir, sub, p), n);
      lines.push(`### ${sub} (${(s.totalMs / 1000).toFixed(2)} s profiled)`, '', '| self ms | % | function |', '| ---: | ---: | --- |');
      for (const r of s.functions) lines.push(`| ${r.selfMs.toFixed(0)} | ${r.percent.toFixed(1)} | \`${r.name}\` |`);
      lines.push('', 'By file: ' + s.files.map((r) => `${r.name} ${r.percent.toFixed(1)}%`).join(', '), '');
    }
  }
  return lines.join('\n');
}

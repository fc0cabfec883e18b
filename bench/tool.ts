/**
 * The one interface every measured tool sits behind (datactl and each peer), so the runner drives
 * them all through the same steps on the same staged data.
 *
 * A session is one fresh store (a repo, a server data dir, a copy target) for one scenario run:
 * put version 1, get it, put version 2 into the same store (the incremental step), get that.
 */
import type { ProcessSample } from './measure.js';

export interface StepSample extends ProcessSample {
  /** Bytes that crossed the wire (datactl's --json `uploadedBytes`); undefined for local tools. */
  sentBytes?: number;
  /** The server process's figures for this step (datactl only). */
  server?: { peakRssBytes: number | null; cpuMs: number | null; sysCpuMs: number | null };
}

/** What a step acts on: `<stageDir>/<name>`, a file or a directory tree. */
export interface Target {
  name: string;
  kind: 'file' | 'tree';
  /** A label for artefacts such as CPU profiles, e.g. `a-put`. */
  label: string;
}

export interface Session {
  /** Where the runner lays out the data to put (git: its work tree). Exists, empty at first. */
  readonly stageDir: string;
  /** Record what is staged now as the next version. */
  put(target: Target): Promise<StepSample>;
  /** Fetch the latest version into `outDir` (exists, empty); absent when the tool has no "get". */
  get?(target: Target, outDir: string): Promise<StepSample>;
  /** Put only the file `relPath` inside the staged tree (the "changed file only" variant). */
  putOne?(target: Target, relPath: string): Promise<StepSample>;
  /** Bytes the store holds now; undefined for tools that keep nothing (b3sum). */
  storeBytes(): Promise<number | undefined>;
  /** Stop whatever runs; the runner removes the session directory afterwards. */
  close(): Promise<void>;
}

export type Probe = { available: true; version: string } | { available: false; reason: string };

export interface Tool {
  readonly name: string;
  /** What its put and get are, in a few words, for the report. */
  readonly what: { put: string; get: string };
  probe(): Promise<Probe>;
  /** A fresh session whose files live under `dir` (exists, empty). */
  open(dir: string): Promise<Session>;
}

/**
 * `npm run demo`: the whole retraining loop in-process (server, git target, bare code repo whose
 * post-receive hook runs the built dist/hooks/demo/train.js), checked from the outside: the code
 * repo's history, the model files, the printed chain. Needs a build (`npm test` builds first).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo, type DemoResult } from '../../hooks/demo/run.js';
import type { ModelRecord } from '../../hooks/demo/train.js';
import { fileHistory, git, gitSandbox, logOf, type GitSandbox } from '../helpers/git.js';

const TRAIN = fileURLToPath(new URL('../../dist/hooks/demo/train.js', import.meta.url));
const built = existsSync(TRAIN);

describe.skipIf(!built)('npm run demo', () => {
  let result: DemoResult;
  const lines: string[] = [];

  beforeAll(async () => {
    result = await runDemo({ keep: true, log: (line) => lines.push(line) });
  }, 90_000);
  afterAll(async () => {
    if (result) await rm(result.dir, { recursive: true, force: true });
  });

  it('pins v1 then v2 in the code repo, one commit each, and never moves the pin backward', async () => {
    const [v1, v2] = result.versions;
    const log = await logOf(result.codeRepo, 'main');
    expect(log).toHaveLength(3); // the seed, then one pin commit per data commit
    expect(log.map((c) => c.id)).toEqual([v2!.codeCommit, v1!.codeCommit, expect.any(String)]);
    expect(log[1]!.body).toBe(`data: pin train to housing@${v1!.dataCommit.slice(0, 12)}\n\nData-Repo: housing\nData-Branch: main\nData-Commit: ${v1!.dataCommit}`);
    expect(log[0]!.body).toContain(`Data-Commit: ${v2!.dataCommit}`);
    expect(log[0]!.author).toBe('datactl <datactl@localhost>');

    const pinned = (await fileHistory(result.codeRepo, 'main', 'configuration/data.json')).map((text) => JSON.parse(text).train?.commit);
    expect(pinned).toEqual([undefined, v1!.dataCommit, v2!.dataCommit]);
    expect(result.pins.map((p) => p.dataCommit)).toEqual([null, v1!.dataCommit, v2!.dataCommit]);
  });

  it('trains one model per pin commit, on exactly the pinned data commit', async () => {
    const files = (await readdir(result.modelsDir)).filter((f) => f.startsWith('model-')).sort();
    expect(files).toHaveLength(2);
    const expected = [
      { slope: 3, intercept: 2 },
      { slope: 5, intercept: -1 },
    ];
    for (const [i, v] of result.versions.entries()) {
      const model = JSON.parse(await readFile(path.join(result.dir, v.modelFile), 'utf8')) as ModelRecord;
      expect(v.modelFile).toBe(`models/model-${v.codeCommit.slice(0, 12)}.json`);
      expect(model).toMatchObject({ dataRepo: 'housing', dataCommit: v.dataCommit, codeCommit: v.codeCommit, dataPath: '/housing.csv', rows: 20_000 });
      expect(Math.abs(model.slope - expected[i]!.slope)).toBeLessThan(0.05);
      expect(Math.abs(model.intercept - expected[i]!.intercept)).toBeLessThan(0.1);
      expect(model.r2).toBeGreaterThan(0.9);
      expect(Number.isNaN(Date.parse(model.trainedAt))).toBe(false);
    }
  });

  it('prints the chain data commit -> code commit -> model for both versions, with latencies', () => {
    for (const v of result.versions) {
      const c = v.dataCommit.slice(0, 12);
      const chain = `${v.label}: data housing@${c} -> code ${v.codeCommit.slice(0, 12)} "data: pin train to housing@${c}" -> model ${v.modelFile} (slope `;
      expect(lines.some((line) => line.startsWith(chain) && line.endsWith(`rows 20000, dataCommit ${c})`))).toBe(true);
    }
    expect(lines.some((line) => /^latency put returned -> pin commit in code\.git: v1 \d+ ms, v2 \d+ ms$/.test(line))).toBe(true);
    expect(lines.some((line) => /^total \d+\.\d s$/.test(line))).toBe(true);
  });

  it('runs the whole loop in under 60 s', () => {
    expect(result.totalMs).toBeLessThan(60_000);
    for (const v of result.versions) {
      expect(v.pinLatencyMs).toBeGreaterThan(0);
      expect(v.modelLatencyMs).toBeGreaterThanOrEqual(v.pinLatencyMs);
    }
  });
});

describe.skipIf(!built)('the demo training script', () => {
  let sandbox: GitSandbox;
  let models: string;
  beforeAll(async () => {
    sandbox = await gitSandbox();
    models = await mkdtemp(path.join(os.tmpdir(), 'datactl-demo-models-'));
  });
  afterAll(async () => {
    await sandbox?.cleanup();
    if (models) await rm(models, { recursive: true, force: true });
  });

  it('refuses a pin that names only a branch, and writes no model', async () => {
    const bare = await sandbox.bare();
    const clone = await sandbox.clone(bare);
    await mkdir(path.join(clone, 'configuration'));
    await writeFile(path.join(clone, 'configuration/data.json'), JSON.stringify({ train: { repo: 'housing', branch: 'main', commit: null } }));
    await git(clone).add('.').commit('pin a branch').push('origin', 'HEAD:refs/heads/main');

    // No server is needed (or reachable): the pin is refused before any request.
    const child = spawn(process.execPath, [TRAIN, '--git-dir', bare, '--rev', 'main', '--models', models], {
      env: { ...process.env, DATACTL_URL: 'http://127.0.0.1:9' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/^train: pin "train" in .*configuration\/data\.json names no commit: a pull must be reproducible/);
    expect(await readdir(models)).toEqual([]);
  });
});

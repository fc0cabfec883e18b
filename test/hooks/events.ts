/** Commit events as the server sends them, for receiver and bumper tests. */
import { randomUUID } from 'node:crypto';
import type { CommitEventPayload } from '../../src/webhooks/payload.js';
import { api } from '../helpers/server.js';
import { putFilesViaApi } from '../helpers/upload.js';

export function commitEvent(repo: string, branch: string, commit: string, deliveryId: string = randomUUID()): CommitEventPayload {
  return {
    event: 'commit',
    deliveryId,
    repo,
    branch,
    commit: { id: commit, parents: [], message: 'data', author: 'test', createdAt: new Date(0).toISOString() },
    changes: { added: 1, modified: 0, deleted: 0, paths: [{ type: 'added', path: '/x' }], truncated: false },
    pin: { repo, branch, commit },
  };
}

/** `n` commits in a row on `repo@branch` of a real server; returns their ids, oldest first. */
export async function commitChain(url: string, repo: string, branch: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  await api(url, 'POST', '/v1/repos', { name: repo }); // 201, or 409 when it exists already
  for (let i = 0; i < n; i++) {
    const r = await putFilesViaApi(url, repo, branch, { [`/step-${i}.txt`]: `step ${i} ${Math.random()}` });
    if (r.status !== 201) throw new Error(`commit failed: ${r.text}`);
    ids.push(r.json.commit.id as string);
  }
  return ids;
}

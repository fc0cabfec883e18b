/** Shared steps of the webhook tests: subscribe, commit, read the delivery log. */
import { createHmac } from 'node:crypto';
import { expect } from 'vitest';
import { api } from '../helpers/server.js';
import { putFilesViaApi } from '../helpers/upload.js';

export async function createRepo(base: string, repo: string): Promise<void> {
  const res = await api(base, 'POST', '/v1/repos', { name: repo });
  expect(res.status, res.text).toBe(201);
}

export async function subscribe(base: string, repo: string, body: Record<string, unknown>): Promise<any> {
  const res = await api(base, 'POST', `/v1/repos/${repo}/webhooks`, body);
  expect(res.status, res.text).toBe(201);
  return res.json;
}

/** Commit files and return the new commit id. */
export async function commit(base: string, repo: string, branch: string, files: Record<string, string>): Promise<string> {
  const res = await putFilesViaApi(base, repo, branch, files);
  expect(res.status, res.text).toBe(201);
  return res.json.commit.id as string;
}

export async function deliveries(base: string, repo: string, id: string): Promise<any[]> {
  const res = await api(base, 'GET', `/v1/repos/${repo}/webhooks/${id}/deliveries`);
  expect(res.status, res.text).toBe(200);
  return res.json.deliveries;
}

export function hmacHeader(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

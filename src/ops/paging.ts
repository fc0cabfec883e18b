/** Cursor paging shared by every listing: opaque base64url cursors, bounded limits. */
import { fail } from '../errors.js';

export const DEFAULT_LIMIT = 1000;
export const MAX_LIMIT = 10_000;

export interface PageOptions {
  limit?: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw fail('E_BAD_REQUEST', `limit must be an integer from 1 to ${MAX_LIMIT}`);
  }
  return limit;
}

export function encodeCursor(position: string): string {
  return Buffer.from(position, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const position = Buffer.from(cursor, 'base64url').toString('utf8');
  if (position === '' || encodeCursor(position) !== cursor) throw fail('E_BAD_REQUEST', 'invalid cursor');
  return position;
}

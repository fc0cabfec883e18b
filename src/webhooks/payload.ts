/**
 * What a webhook receiver gets: the JSON body of every delivery. Built at delivery time from
 * immutable commits, so a retry or redelivery sends byte-identical JSON under the same delivery id.
 */
import type { DiffChange } from '../ops/diff.js';

export type EventType = 'commit' | 'branch.created' | 'branch.deleted';
export const EVENT_TYPES: readonly EventType[] = ['commit', 'branch.created', 'branch.deleted'];

/** The object a pin receiver writes under its key, e.g. in configuration/data.json. */
export interface PinObject {
  repo: string;
  branch: string;
  commit: string;
}

/** A changed path as `diff` reports it (src/ops/diff.ts): the same shape on the API and in events. */
export type ChangedPath = DiffChange;

export interface CommitEventPayload {
  event: 'commit';
  deliveryId: string;
  repo: string;
  branch: string;
  commit: {
    id: string;
    parents: string[];
    message: string;
    author: string;
    createdAt: string;
    /** Violations of `warn` schema contracts recorded on the commit (absent when none). */
    contractWarnings?: string[];
  };
  changes: {
    added: number;
    modified: number;
    deleted: number;
    /** The first paths (at most 100), in path order. */
    paths: ChangedPath[];
    /** True when there were more changed paths than listed. */
    truncated: boolean;
    /** How many listed Parquet files changed schema (columns, types or nullability). */
    schemaChanges?: number;
    /**
     * Present (true) only when the diff was too large to count in full: the counts then cover
     * the first paths in path order, not the whole commit.
     */
    countsTruncated?: boolean;
  };
  pin: PinObject;
}

export interface BranchEventPayload {
  event: 'branch.created' | 'branch.deleted';
  deliveryId: string;
  repo: string;
  branch: string;
  head: string | null;
}

export type EventPayload = CommitEventPayload | BranchEventPayload;

export const SIGNATURE_HEADER = 'X-Datactl-Signature-256';
export const EVENT_HEADER = 'X-Datactl-Event';
export const DELIVERY_HEADER = 'X-Datactl-Delivery';

/**
 * The object-store seam. Pack objects (many chunks each) are the only thing datactl writes here;
 * everything that names them lives in the metadata store. Adapters translate native errors
 * (ENOENT, NoSuchKey, connection refused) into DatactlError at this boundary and never leak them.
 *
 * Keys are relative, '/'-separated, from [A-Za-z0-9._/-]; adapters map them to files or S3 keys.
 */
export interface ObjectStore {
  /** Human-readable location for logs, e.g. `file:///var/lib/datactl/objects` (never credentials). */
  readonly description: string;

  /**
   * Store `body` (the concatenation of the parts) under `key` and resolve only once it is durable:
   * fsynced file and directory for local disk, a completed PUT for S3. Objects are write-once and
   * content-addressed, so putting a key that already exists is allowed and leaves one object.
   * A failed put leaves no partial object visible under `key`.
   */
  put(key: string, body: readonly Uint8Array[]): Promise<void>;

  /**
   * Optional two-step put, for stores where durability is a separate, slow step (an fsync): write
   * the bytes now, so the caller may reuse `body` once this resolves, and return the object to
   * `publish` (durable and visible under `key`, as after `put`) or `discard` later. Until it is
   * published nothing is visible under `key`. Stores without it are written with `put`.
   */
  stage?(key: string, body: readonly Uint8Array[]): Promise<StagedObject>;

  /**
   * Read `length` bytes at `offset` of `key`. Throws E_OBJECT_NOT_FOUND when the key is absent and
   * E_CORRUPT_OBJECT when the object is shorter than offset + length (a truncated object).
   * `into` (at least `length` bytes) is a buffer the caller reuses: a store that can read into it
   * answers a view of it, saving a fresh allocation per read; any store may answer a new buffer.
   */
  getRange(key: string, offset: number, length: number, into?: Buffer): Promise<Buffer>;

  /** The object's size in bytes, or undefined when absent. */
  stat(key: string): Promise<{ size: number } | undefined>;

  /** Remove `key`; removing an absent key is not an error (idempotent). */
  delete(key: string): Promise<void>;

  /** Every key starting with `prefix`, in no promised order. */
  list(prefix: string): AsyncIterable<string>;

  /** Resolve when the store can be read and written (health checks); throw E_STORE_UNAVAILABLE otherwise. */
  check(): Promise<void>;

  /** Release sockets and handles. */
  close(): Promise<void>;
}

/** An object written by `ObjectStore.stage`, not yet durable or visible. */
export interface StagedObject {
  /** Make it durable and visible under its key, as `put` would have; call once. */
  publish(): Promise<void>;
  /** Drop the written bytes (after a failure elsewhere); never throws. */
  discard(): Promise<void>;
}

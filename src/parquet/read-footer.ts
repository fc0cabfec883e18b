/**
 * Read a Parquet file's metadata from its footer alone. A Parquet file ends with
 * `<FileMetaData (Thrift compact)> <u32 LE footer length> "PAR1"` and starts with "PAR1", so the
 * reads are: the first 4 bytes, the last 8, then exactly the footer. Memory is bounded by the
 * footer limit, never by the file size.
 *
 * Anything wrong with the bytes (bad magic, impossible length, undecodable Thrift, inconsistent
 * structure) is an answer, `{ ok: false, error }`, not an exception: a broken .parquet file is still
 * a file the repo stores. Errors from `readRange` itself (storage trouble) propagate.
 */
import { parquetMetadata } from 'hyparquet';
import { deserializeTCompactProtocol } from 'hyparquet/src/thrift.js';
import { fail } from '../errors.js';
import { normalizeMetadata } from './normalize.js';
import { FooterError, type ParquetBad, type ParquetInfo } from './schema.js';

/** Returns exactly the bytes [start, endExclusive) of the file. */
export type ReadRange = (start: number, endExclusive: number) => Promise<Uint8Array>;

export interface ReadParquetOptions {
  /** Largest footer we agree to read and parse (default 64 MiB). */
  maxFooterBytes?: number;
  /** Also check the leading "PAR1" with a 4-byte read (default true). */
  checkHeader?: boolean;
}

export const DEFAULT_MAX_FOOTER_BYTES = 64 * 1024 * 1024;
const MAGIC = 'PAR1';
const ENCRYPTED_MAGIC = 'PARE';
/** "PAR1" + footer + u32 length + "PAR1" with an empty footer: nothing shorter can be Parquet. */
const MIN_FILE_BYTES = 12;

const bad = (error: string): ParquetBad => ({ ok: false, error });
const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
/** Four magic bytes as text when printable ("PAR0"), else as hex (0x0c191500). */
const shown = (b: Uint8Array) => (/^[\x20-\x7e]*$/.test(latin1(b)) ? JSON.stringify(latin1(b)) : `0x${Buffer.from(b).toString('hex')}`);

async function readExact(readRange: ReadRange, start: number, end: number): Promise<Uint8Array> {
  const bytes = await readRange(start, end);
  if (bytes.length !== end - start) {
    throw fail('E_INTERNAL', `readRange(${start}, ${end}) returned ${bytes.length} bytes instead of ${end - start}`);
  }
  return bytes;
}

export async function readParquetInfo(size: number, readRange: ReadRange, options: ReadParquetOptions = {}): Promise<ParquetInfo> {
  const maxFooter = options.maxFooterBytes ?? DEFAULT_MAX_FOOTER_BYTES;
  if (!Number.isSafeInteger(size) || size < 0) throw fail('E_INTERNAL', `invalid file size ${size}`);
  if (size < MIN_FILE_BYTES) return bad(`file is ${size} bytes, shorter than the ${MIN_FILE_BYTES}-byte minimum of a Parquet file`);

  const [head, tail] = await Promise.all([
    options.checkHeader === false ? undefined : readExact(readRange, 0, 4),
    readExact(readRange, size - 8, size),
  ]);
  const problem = magicProblem(head, tail.subarray(4));
  if (problem) return bad(problem);

  const footerLength = Buffer.from(tail.buffer, tail.byteOffset, 4).readUInt32LE(0);
  if (footerLength === 0) return bad('footer length is 0');
  if (footerLength > size - MIN_FILE_BYTES) {
    return bad(`footer length ${footerLength} exceeds the ${size - MIN_FILE_BYTES} bytes the file has room for: truncated or corrupt`);
  }
  if (footerLength > maxFooter) return bad(`footer is ${footerLength} bytes, above the ${maxFooter}-byte limit`);

  const footer = await readExact(readRange, size - 8 - footerLength, size - 8);
  return parseFooter(footer, tail);
}

function magicProblem(head: Uint8Array | undefined, tailMagic: Uint8Array): string | undefined {
  const headOk = head === undefined || latin1(head) === MAGIC;
  const tailText = latin1(tailMagic);
  if (tailText === ENCRYPTED_MAGIC) return 'footer is encrypted (PARE magic); encrypted Parquet is not supported';
  if (tailText !== MAGIC) {
    if (head !== undefined && !headOk) return `missing PAR1 magic at start and end (found ${shown(head)} and ${shown(tailMagic)}): not a Parquet file`;
    return `missing PAR1 magic at end of file (found ${shown(tailMagic)}): the file is truncated or corrupt`;
  }
  if (!headOk) return `missing PAR1 magic at start of file (found ${shown(head!)})`;
  return undefined;
}

function parseFooter(footer: Uint8Array, tail: Uint8Array): ParquetInfo {
  const buffer = new Uint8Array(footer.length + 8);
  buffer.set(footer, 0);
  buffer.set(tail, footer.length);
  let meta: ReturnType<typeof parquetMetadata>;
  let raw: Record<string, unknown>;
  try {
    // Our own pass first, over exactly the footer: it bounds the Thrift reader to the footer bytes
    // and keeps the raw statistics bytes that hyparquet's pass converts to lossy JS numbers.
    raw = deserializeTCompactProtocol({ view: new DataView(buffer.buffer, 0, footer.length), offset: 0 });
    const missing = missingRequiredField(raw);
    if (missing) return bad(`footer lacks the required FileMetaData field ${missing}`);
    meta = parquetMetadata(buffer, { geoparquet: false });
  } catch (err) {
    return bad(`footer cannot be decoded: ${messageOf(err)}`);
  }
  try {
    return normalizeMetadata(meta, raw);
  } catch (err) {
    if (err instanceof FooterError) return bad(err.message);
    return bad(`footer is inconsistent: ${messageOf(err)}`);
  }
}

/** FileMetaData fields 1-4 are `required` in parquet.thrift; hyparquet assumes them. */
function missingRequiredField(raw: Record<string, unknown>): string | undefined {
  if (typeof raw.field_1 !== 'number') return 'version (1)';
  if (!Array.isArray(raw.field_2)) return 'schema (2)';
  if (typeof raw.field_3 !== 'bigint') return 'num_rows (3)';
  if (!Array.isArray(raw.field_4)) return 'row_groups (4)';
  return undefined;
}

function messageOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof RangeError && /outside the bounds/i.test(message)) return 'Thrift data runs past the end of the footer';
  // hyparquet assumes well-typed Thrift fields; a wrong type surfaces as a TypeError deep inside it.
  if (err instanceof TypeError) return `a Thrift field has an unexpected type (${message})`;
  return message;
}

/**
 * Workloads (a) and (b): a CSV of order events (ids, timestamps, floats, categorical strings,
 * free text) and the same CSV with ~1% edited: a block of new rows inserted in the middle and
 * rows appended. Both files are written in one pass: rows are generated once, in pieces of about
 * 1 MB, and each piece is written to both files; the edits are written to (b) only. Nothing is
 * held whole in memory.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { Prng } from './prng.js';

export interface CsvSpec {
  seed: number;
  /** Approximate size of (a). */
  bytes: number;
  /** Fraction of `bytes` added in (b): half inserted as one block in the middle, half appended. */
  editFraction: number;
}

export interface CsvMeta {
  rows: number;
  bytesA: number;
  bytesB: number;
  /** Byte offset in (b) where the inserted block starts. */
  insertOffset: number;
  insertedBytes: number;
  appendedBytes: number;
}

const HEADER = 'event_id,ts,user_id,session,amount,currency,lat,lon,category,status,device,country,comment\n';
const CATEGORIES = ['books', 'games', 'music', 'garden', 'tools', 'toys', 'grocery', 'health', 'beauty', 'sports', 'auto', 'baby', 'office', 'pets', 'outdoor', 'kitchen', 'jewelry', 'shoes', 'software', 'electronics'];
const STATUSES = ['delivered', 'delivered', 'delivered', 'delivered', 'shipped', 'shipped', 'pending', 'refunded', 'cancelled', 'failed'];
const DEVICES = ['ios', 'android', 'web', 'web', 'desktop', 'tablet'];
const COUNTRIES = ['US', 'DE', 'FR', 'NL', 'GB', 'ES', 'IT', 'PL', 'SE', 'NO', 'DK', 'FI', 'BE', 'AT', 'CH', 'IE', 'PT', 'CZ', 'JP', 'KR', 'IN', 'BR', 'MX', 'CA', 'AU', 'NZ', 'ZA', 'SG', 'AR', 'CL'];
const CURRENCIES = ['USD', 'EUR', 'EUR', 'GBP', 'JPY', 'SEK'];
const WORDS = (
  'the a an and or but not very quite really late early fast slow great good bad poor fine okay ' +
  'order item package box parcel delivery courier driver store shop customer support refund return ' +
  'price discount coupon quality size colour color fit broken damaged missing wrong right perfect ' +
  'arrived received opened ordered paid charged twice again never always still already soon today ' +
  'yesterday week month day morning evening night door porch neighbour address label tracking number ' +
  'email phone call chat agent manager replacement exchange warranty battery screen cable charger ' +
  'shirt shoes book game toy lamp chair table mug bottle bag coat hat sock glove phone laptop mouse ' +
  'would will could should did does was were is are be been have has had recommend buy again love ' +
  'hate like expected described pictures smaller bigger cheaper nicer works stopped working after ' +
  'two three four days weeks hours minutes thanks thank you please help asap sorry happy unhappy'
).split(' ');
const BASE_TIME_MS = Date.UTC(2024, 0, 1);
const PIECE_BYTES = 1 << 20;

/** One CSV row from the generator's state; `id` and `timeMs` come from the caller (they are sequences). */
function row(rng: Prng, id: number, timeMs: number): string {
  const amount = (rng.int(5_000_000) / 100).toFixed(2);
  const lat = (rng.float() * 180 - 90).toFixed(5);
  const lon = (rng.float() * 360 - 180).toFixed(5);
  return `${id},${new Date(timeMs).toISOString()},${rng.int(2_000_000)},${rng.hex(16)},${amount},${rng.pick(CURRENCIES)},${lat},${lon},` +
    `${rng.pick(CATEGORIES)},${rng.pick(STATUSES)},${rng.pick(DEVICES)},${rng.pick(COUNTRIES)},${comment(rng)}\n`;
}

/** Free text: 0-16 words; one in eight quoted with a comma inside, as real exports have. */
function comment(rng: Prng): string {
  const n = rng.int(17);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(rng.pick(WORDS));
  if (n > 3 && rng.int(8) === 0) return `"${words.slice(0, 2).join(' ')}, ${words.slice(2).join(' ')}"`;
  return words.join(' ');
}

/** Rows from one generator with increasing ids and timestamps, in ~1 MB string pieces. */
class RowSource {
  private readonly rng: Prng;
  private timeMs: number;
  rows = 0;

  constructor(seed: number, private nextId: number, startMs = BASE_TIME_MS) {
    this.rng = new Prng(seed);
    this.timeMs = startMs;
  }

  /** Whole rows totalling at least `limit` bytes (one row past it). */
  piece(limit = PIECE_BYTES): string {
    const parts: string[] = [];
    let size = 0;
    while (size < limit) {
      this.timeMs += this.rng.int(2000);
      const line = row(this.rng, this.nextId++, this.timeMs);
      parts.push(line);
      size += line.length;
      this.rows++;
    }
    return parts.join('');
  }
}

async function write(stream: WriteStream, text: string | Buffer): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

async function close(stream: WriteStream): Promise<void> {
  stream.end();
  await once(stream, 'finish');
}

/** Write up to `bytes` of rows from `source` to (b) only; returns the bytes written. */
async function writeEdit(out: WriteStream, source: RowSource, bytes: number): Promise<number> {
  let written = 0;
  while (written < bytes) {
    const piece = Buffer.from(source.piece(Math.min(PIECE_BYTES, bytes - written)));
    await write(out, piece);
    written += piece.length;
  }
  return written;
}

/** Generate (a) at `pathA` and (b) at `pathB`. */
export async function generateCsv(spec: CsvSpec, pathA: string, pathB: string): Promise<CsvMeta> {
  const a = createWriteStream(pathA);
  const b = createWriteStream(pathB);
  const main = new RowSource(spec.seed, 1);
  const editBytes = Math.max(1, Math.round((spec.bytes * spec.editFraction) / 2));
  // New rows get ids past any the main stream will use, as freshly inserted records would.
  const edits = new RowSource(spec.seed ^ 0x5eed5eed, 1_000_000_000, BASE_TIME_MS + 86_400_000);
  let bytesA = 0;
  let insertOffset = -1;
  let insertedBytes = 0;
  await write(a, HEADER);
  await write(b, HEADER);
  bytesA += HEADER.length;
  while (bytesA < spec.bytes) {
    if (insertOffset < 0 && bytesA >= spec.bytes / 2) {
      insertOffset = bytesA;
      insertedBytes = await writeEdit(b, edits, editBytes);
    }
    const piece = Buffer.from(main.piece());
    await write(a, piece);
    await write(b, piece);
    bytesA += piece.length;
  }
  const appendedBytes = await writeEdit(b, edits, editBytes);
  await Promise.all([close(a), close(b)]);
  return { rows: main.rows, bytesA, bytesB: bytesA + insertedBytes + appendedBytes, insertOffset, insertedBytes, appendedBytes };
}

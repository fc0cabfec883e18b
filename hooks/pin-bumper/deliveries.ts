/**
 * Replay protection: the delivery ids already applied, kept in `<workDir>/deliveries.log` (one
 * id a line, appended after each successful delivery) and in memory. Losing the last line in a
 * crash is harmless: the bumper is idempotent, so a redelivery finds the pin `unchanged`.
 */
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Delivery ids are opaque, but they go into a line-based file: keep them boring. */
export const DELIVERY_ID_RE = /^[A-Za-z0-9._:-]{1,200}$/;

export class DeliveryLog {
  private constructor(
    private readonly file: string,
    private readonly ids: Set<string>,
    private readonly max: number,
  ) {}

  /** Load the log under `workDir` (an absent file is an empty log). Keeps the newest `max` ids. */
  static async open(workDir: string, max = 100_000): Promise<DeliveryLog> {
    await mkdir(workDir, { recursive: true });
    const file = join(workDir, 'deliveries.log');
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    const ids = new Set(text.split('\n').filter((id) => DELIVERY_ID_RE.test(id)));
    return new DeliveryLog(file, ids, max);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  async add(id: string): Promise<void> {
    if (this.ids.has(id)) return;
    this.ids.add(id);
    await appendFile(this.file, `${id}\n`);
    if (this.ids.size > this.max) await this.compact();
  }

  /** Keep the newest half: rewrite through a temp file, so a crash leaves the old or the new. */
  private async compact(): Promise<void> {
    const keep = [...this.ids].slice(-Math.floor(this.max / 2));
    this.ids.clear();
    for (const id of keep) this.ids.add(id);
    const temp = `${this.file}.tmp`;
    await writeFile(temp, keep.map((id) => `${id}\n`).join(''));
    await rename(temp, this.file);
  }
}

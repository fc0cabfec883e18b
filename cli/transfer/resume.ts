/**
 * When a download whose connection was cut mid-body goes on from where it stopped (download.ts:
 * a Range request; get-tree.ts: a chunks/read of the chunks not yet received). Only a lost
 * connection after something arrived is resumed (a request that got no answer at all was already
 * retried by the transport), and only while resumes make progress: a few in a row that bring
 * nothing new end the download with the last error.
 */
import { isUnreachable } from '../http.js';

const MAX_STALLED = 3;
const DELAY_MS = 100;

export class Resumes {
  private stalled = 0;

  /**
   * Call with the error of an attempt: resolves, after a short pause, if the caller should resume,
   * and throws `err` otherwise. `progressed`: this attempt brought something new; `resumable`:
   * something arrived and something is still missing.
   */
  async after(err: unknown, progressed: boolean, resumable: boolean): Promise<void> {
    this.stalled = progressed ? 0 : this.stalled + 1;
    if (!isUnreachable(err) || !resumable || this.stalled >= MAX_STALLED) throw err;
    await new Promise<void>((resolve) => setTimeout(resolve, DELAY_MS * 2 ** this.stalled));
  }
}

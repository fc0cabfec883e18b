/**
 * When a download whose connection was cut mid-body goes on from where it stopped (download.ts:
 * a Range request; get-tree.ts: a chunks/read of the chunks not yet received). Only an answer cut
 * after its headers is resumed (a request that got no answer at all was already retried by the
 * transport), and only while resumes make progress: a few in a row that bring nothing new end the
 * download with the last error.
 */
import { isCutMidBody } from '../http.js';

/**
 * Resumes in a row without a byte (or chunk) more: a blip costs one, a server that fails at the
 * same place every time (a pack it cannot read) is given up on after 0.2 + 0.4 s of pauses.
 */
const MAX_STALLED = 3;
const DELAY_MS = 100;

export class Resumes {
  private stalled = 0;

  /**
   * Call with the error of an attempt: resolves, after a short pause, if the caller should resume,
   * and throws `err` otherwise. `progressed`: this attempt brought something new.
   */
  async after(err: unknown, progressed: boolean): Promise<void> {
    this.stalled = progressed ? 0 : this.stalled + 1;
    if (!isCutMidBody(err) || this.stalled >= MAX_STALLED) throw err;
    await new Promise<void>((resolve) => setTimeout(resolve, DELAY_MS * 2 ** this.stalled));
  }
}

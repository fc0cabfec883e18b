/**
 * Keeps the server's heap near what it holds live, in two moments:
 *
 * While busy: V8 lets garbage promoted to the old generation pile up until its own heuristics
 * start a major collection, and a 100k-file put promotes a lot of it (parsed commit lines, batch
 * operations and chunk lists that live across an await). Its heap reached ~100 MB with ~25 MB
 * live. So while any request is in progress, every BUSY_CHECK_MS the JS heap's used bytes are
 * compared with what the last collection left, and a full collection runs once they have grown
 * by BUSY_GROWTH_BYTES (8-25 ms of the main thread each; 3-5 in a 100k-file put). Server peak of
 * that put, three runs each: 224-229 MB against 264-287 MB on the build before (which also had
 * 32 MiB memtables), server user CPU +0.0-0.3 s. Measured when the check still counted external
 * memory too: a 16 MiB step cost ~0.4 s more CPU than 32 MiB for no lower peak, 64 MiB peaked at
 * 234-246 MB.
 *
 * Not counted while busy: the buffers V8 accounts as external memory. A 1 GB upload passes its
 * socket reads through them, and a full collection in the middle of it moves the reads still in
 * flight into the old generation, where only the next full collection frees them; V8 then
 * starts one for external memory every ~90 ms, each moving the next reads in flight there, to
 * the end of the upload. Counted, they set that off in about half of the 1 GB puts (28-35 full
 * collections instead of 2-3, server CPU 0.9-1.0 -> 1.2-1.8 s).
 *
 * Once idle: after a burst of work the heap stayed at 89-100 MB through the get that followed,
 * with 16 MB of JS objects live: garbage the burst promoted, kept until some later full
 * collection. So once no request has been in progress for IDLE_MS and the used heap (with the
 * buffers it owns) has grown by GROWTH_BYTES since the last collection, one full collection runs.
 * Once quiet for QUIET_MS, the buffers kept for the next upload or read are let go and collected
 * too (`dropSpareBuffers`: 32 MiB of pack buffers after one CLI's put, up to 64 MiB after four
 * uploads at once, and 12 MiB of read buffers, resident since the burst); a server asked
 * something at least once a second keeps them, and does not pay a collection and fresh buffers
 * per request.
 *
 * Idle means no request in progress, not "no response finished lately": a put streams its commit
 * request for as long as it uploads, so a server whose responses paused for 200 ms used to collect
 * in the middle of a put, and then, measuring growth from the committed heap that collection
 * left, saw too little growth to collect after the put or the get that followed (a server at
 * rest held 97 MB of heap, 80 MB of it garbage).
 *
 * The same idle moment tells the metadata store to let go of what it buffers for writes
 * (`release`: LevelDB's memtable, written out as a table). With the idle collection, server at
 * rest after a 100k-file put: 260-271 -> 212-225 MB; the get after it peaked 309-315 -> 268-273 MB
 * (two pairs of runs, the build before and after).
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import type { FastifyInstance } from 'fastify';

const IDLE_MS = 200;
const QUIET_MS = 1000;
const GROWTH_BYTES = 16 * 1024 * 1024;
const BUSY_CHECK_MS = 250;
const BUSY_GROWTH_BYTES = 32 * 1024 * 1024;

type CollectGarbage = () => void;

export interface IdleGcOptions {
  idleMs?: number;
  /** Growth of the used heap since the last collection that makes an idle moment collect. */
  growthBytes?: number;
  /** How often the busy check runs while any request is in progress. */
  busyCheckMs?: number;
  /** Growth of the JS heap (external memory aside) since the last collection that makes a busy check collect. */
  busyGrowthBytes?: number;
  /** No request for this long (longer than idleMs): the spare buffers go. */
  quietMs?: number;
  /** Lets go of buffers kept for reuse, returns their bytes (freed by the collection then run). */
  dropSpareBuffers?: () => number;
  /** Also run on each idle moment (after the collection, if any); its failure is logged, never thrown. */
  release?: () => Promise<boolean>;
}

/** Counts requests in progress; checks while busy, arms the idle work whenever the last one ends; stops when the app closes. */
export function collectGarbageWhenIdle(app: FastifyInstance, options: IdleGcOptions = {}): void {
  const collect = fullCollection();
  const idleMs = options.idleMs ?? IDLE_MS;
  const growthBytes = options.growthBytes ?? GROWTH_BYTES;
  const busyCheckMs = options.busyCheckMs ?? BUSY_CHECK_MS;
  const busyGrowthBytes = options.busyGrowthBytes ?? BUSY_GROWTH_BYTES;
  const quietMs = options.quietMs ?? QUIET_MS;
  let { used: baseline, heap: heapBaseline } = heapUse();
  let inProgress = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  let quietTimer: NodeJS.Timeout | undefined;
  let busyTimer: NodeJS.Timeout | undefined;
  let closed = false;
  const collectNow = (gc: CollectGarbage, moment: 'idle' | 'busy') => {
    const started = performance.now();
    gc();
    ({ used: baseline, heap: heapBaseline } = heapUse());
    app.log.debug({ ms: Math.round(performance.now() - started), usedBytes: baseline }, `collected garbage while ${moment}`);
  };
  const onBusy = () => {
    if (collect && !closed && inProgress > 0 && heapUse().heap >= heapBaseline + busyGrowthBytes) collectNow(collect, 'busy');
  };
  const onIdle = () => {
    if (closed || inProgress > 0) return;
    if (collect && heapUse().used >= baseline + growthBytes) collectNow(collect, 'idle');
    if (options.release) {
      const started = performance.now();
      options.release().then(
        (released) => released && app.log.debug({ ms: Math.round(performance.now() - started) }, 'released store memory while idle'),
        (err: unknown) => app.log.warn({ err }, 'releasing store memory while idle failed'),
      );
    }
  };
  const onQuiet = () => {
    if (closed || inProgress > 0) return;
    const dropped = options.dropSpareBuffers?.() ?? 0;
    if (collect && dropped > 0) collectNow(collect, 'idle');
  };
  const ended = () => {
    if (--inProgress > 0) return;
    clearInterval(busyTimer);
    busyTimer = undefined;
    if (closed) return;
    // One timer each for the app's life: refresh() re-arms it, fired or not, without a new allocation.
    if (idleTimer) idleTimer.refresh();
    else idleTimer = setTimeout(onIdle, idleMs).unref();
    if (quietTimer) quietTimer.refresh();
    else quietTimer = setTimeout(onQuiet, quietMs).unref();
  };
  app.addHook('onRequest', (_request, reply, done) => {
    if (inProgress++ === 0 && collect && !closed) busyTimer = setInterval(onBusy, busyCheckMs).unref();
    // 'close' comes once per response: after it is sent, or when the client goes away mid-way
    // (then no 'finish', and fastify's onResponse does not run).
    reply.raw.once('close', ended);
    done();
  });
  app.addHook('onClose', (_app, done) => {
    closed = true;
    clearTimeout(idleTimer);
    clearTimeout(quietTimer);
    clearInterval(busyTimer);
    done();
  });
}

/**
 * `heap`: V8's used heap alone (JS objects, live or garbage not yet collected); `used`: that plus
 * the ArrayBuffer memory V8 accounts for.
 */
function heapUse(): { heap: number; used: number } {
  const h = v8.getHeapStatistics();
  return { heap: h.used_heap_size, used: h.used_heap_size + h.external_memory };
}

/**
 * The `gc` function V8 gives a context when --expose-gc is set, without needing the flag on the
 * command line (`datactl serve` and `npm start` are plain `node` runs). undefined where the
 * runtime refuses.
 */
function fullCollection(): CollectGarbage | undefined {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    if (typeof gc !== 'function') return undefined;
    // No options: on this Node (V8 11.3) an options object ({ type: 'major', ... }) measured as a
    // collection that freed nothing (used heap 70 -> 69 MB), while the plain call took 70 -> 3 MB.
    return gc as CollectGarbage;
  } catch {
    return undefined;
  }
}

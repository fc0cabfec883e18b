/**
 * Gives the memory of a burst of work back once the server goes quiet. After a 100k-file put,
 * V8's heap stayed at 89-100 MB through the get that followed, with 16 MB of JS objects live (a
 * heap snapshot): garbage the burst promoted, kept until some later full collection. So once no
 * request has been in progress for IDLE_MS and the heap's used bytes (with the buffers it owns)
 * have grown by GROWTH_BYTES since the last such collection, one full collection runs (27-28 ms
 * of the main thread after that put), none while the heap stays put.
 *
 * Idle means no request in progress, not "no response finished lately": a put streams its commit
 * request for as long as it uploads, so a server whose responses paused for 200 ms used to collect
 * in the middle of a put, and then, measuring growth from the committed heap that collection
 * left, saw too little growth to collect after the put or the get that followed (a server at
 * rest held 97 MB of heap, 80 MB of it garbage).
 *
 * The same idle moment tells the metadata store to let go of what it buffers for writes
 * (`release`: LevelDB's memtable, up to 32 MiB, written out as a table). Both together, server at
 * rest after a 100k-file put: 260-271 -> 212-225 MB; the get after it peaked 309-315 -> 268-273 MB
 * (two pairs of runs, the build before and after).
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import type { FastifyInstance } from 'fastify';

const IDLE_MS = 200;
const GROWTH_BYTES = 32 * 1024 * 1024;

type CollectGarbage = () => void;

export interface IdleGcOptions {
  idleMs?: number;
  growthBytes?: number;
  /** Also run on each idle moment (after the collection, if any); its failure is logged, never thrown. */
  release?: () => Promise<boolean>;
}

/** Counts requests in progress; arms the idle work whenever the last one ends; stops when the app closes. */
export function collectGarbageWhenIdle(app: FastifyInstance, options: IdleGcOptions = {}): void {
  const collect = fullCollection();
  const idleMs = options.idleMs ?? IDLE_MS;
  const growthBytes = options.growthBytes ?? GROWTH_BYTES;
  let baseline = usedBytes();
  let inProgress = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const onIdle = () => {
    if (closed || inProgress > 0) return;
    if (collect && usedBytes() >= baseline + growthBytes) {
      const started = performance.now();
      collect();
      baseline = usedBytes();
      app.log.debug({ ms: Math.round(performance.now() - started), usedBytes: baseline }, 'collected garbage while idle');
    }
    if (options.release) {
      const started = performance.now();
      options.release().then(
        (released) => released && app.log.debug({ ms: Math.round(performance.now() - started) }, 'released store memory while idle'),
        (err: unknown) => app.log.warn({ err }, 'releasing store memory while idle failed'),
      );
    }
  };
  const ended = () => {
    if (--inProgress > 0 || closed) return;
    // One timer for the app's life: refresh() re-arms it, fired or not, without a new allocation.
    if (timer) timer.refresh();
    else timer = setTimeout(onIdle, idleMs).unref();
  };
  app.addHook('onRequest', (_request, reply, done) => {
    inProgress++;
    // 'close' comes once per response: after it is sent, or when the client goes away mid-way
    // (then no 'finish', and fastify's onResponse does not run).
    reply.raw.once('close', ended);
    done();
  });
  app.addHook('onClose', (_app, done) => {
    closed = true;
    clearTimeout(timer);
    done();
  });
}

/** V8's used heap (live objects and garbage not yet collected) plus the ArrayBuffer memory it accounts for. */
function usedBytes(): number {
  const h = v8.getHeapStatistics();
  return h.used_heap_size + h.external_memory;
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

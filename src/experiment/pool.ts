import { Worker } from "node:worker_threads";
import { executeJob, type JobEvent, type JobPayload } from "./job.js";

/**
 * Runs jobs on a pool of worker threads (one per core by default), or in this thread when the pool
 * size is 1. Jobs are independent; their events (finished cells, trained source models) stream back
 * as they happen so the runner can store each cell the moment it finishes.
 */
export interface JobRunner {
  run(payload: JobPayload, onEvent: (e: JobEvent) => void): Promise<void>;
  close(): Promise<void>;
}

export function createJobRunner(size: number): JobRunner {
  if (size <= 1) {
    return {
      async run(payload, onEvent) {
        // Yield to the event loop first so progress output and signals are handled between jobs.
        await new Promise((r) => setImmediate(r));
        executeJob(payload, onEvent);
      },
      async close() {},
    };
  }
  const idle: Worker[] = [];
  const all: Worker[] = [];
  const waiting: ((w: Worker) => void)[] = [];
  for (let i = 0; i < size; i++) {
    const w = spawnWorker();
    w.unref();
    all.push(w);
    idle.push(w);
  }
  const acquire = (): Promise<Worker> =>
    new Promise((resolve) => {
      const w = idle.pop();
      if (w) resolve(w);
      else waiting.push(resolve);
    });
  const release = (w: Worker) => {
    const next = waiting.shift();
    if (next) next(w);
    else idle.push(w);
  };
  return {
    async run(payload, onEvent) {
      const w = await acquire();
      w.ref();
      try {
        await new Promise<void>((resolve, reject) => {
          const onMessage = (m: JobEvent | { type: "done" } | { type: "failed"; error: string }) => {
            if (m.type === "done") finish(resolve);
            else if (m.type === "failed") finish(() => reject(new Error(m.error)));
            else onEvent(m);
          };
          const onError = (e: Error) => finish(() => reject(e));
          const finish = (f: () => void) => {
            w.off("message", onMessage);
            w.off("error", onError);
            f();
          };
          w.on("message", onMessage);
          w.on("error", onError);
          w.postMessage(payload);
        });
      } finally {
        w.unref();
        release(w);
      }
    },
    async close() {
      await Promise.all(all.map((w) => w.terminate()));
    },
  };
}

/**
 * Built code runs worker.js directly. Run from source (tsx), a worker thread does not inherit tsx's
 * loader, so it registers tsx itself before importing worker.ts.
 */
function spawnWorker(): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL("./worker.js", import.meta.url));
  const entry = new URL("./worker.ts", import.meta.url).href;
  const boot = `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true });
}

import { parentPort } from "node:worker_threads";
import { executeJob, type JobPayload } from "./job.js";

/** Worker-thread entry: runs one job per message and streams its events back. */
if (!parentPort) throw new Error("experiment worker must run in a worker thread");
const port = parentPort;
port.on("message", (payload: JobPayload) => {
  try {
    executeJob(payload, (event) => port.postMessage(event));
    port.postMessage({ type: "done" });
  } catch (e) {
    port.postMessage({ type: "failed", error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});

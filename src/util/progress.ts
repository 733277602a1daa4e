/**
 * Progress reporting for long work. Writes to stderr (so stdout stays parseable, e.g. with --json),
 * redraws in place on a TTY and prints sparse lines otherwise (CI logs).
 */
export interface Progress {
  /** n more items done; `work`: their expected cost in the units of `work` (default: n). */
  tick(n?: number, note?: string, work?: number): void;
  done(note?: string): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  stream?: NodeJS.WriteStream;
  /** Disable output entirely (tests, --quiet). */
  silent?: boolean;
  /**
   * Expected cost of all items, in any unit (default: `total`, every item alike). With it, ticks
   * pass each item's cost, and the ETA is the elapsed time per unit of cost done times the cost
   * left: a grid whose last cells are its most expensive (fine-tuning a 768-dimensional embedding)
   * no longer reads "90%, ETA 35 s" three minutes before the end.
   */
  work?: number;
}

/**
 * Seconds left: the elapsed time per unit of work done, times the work left. 0 when nothing is left;
 * null before anything is done (no rate yet).
 */
export function etaSeconds(elapsed: number, workDone: number, workTotal: number): number | null {
  if (workTotal <= workDone) return 0;
  if (workDone <= 0) return null;
  return (elapsed / workDone) * (workTotal - workDone);
}

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.silent || process.env.CONCEPTBRIDGE_QUIET === "1") return { tick() {}, done() {} };
  const start = Date.now();
  const totalWork = opts.work !== undefined && opts.work > 0 ? opts.work : opts.total;
  let workDone = 0;
  let count = 0;
  let lastDraw = 0;
  let lastPct = -1;
  const tty = stream.isTTY === true;
  const render = (note?: string): string => {
    // Progress and ETA by expected work done, not by items: items can differ 100-fold in cost.
    const pct = totalWork > 0 ? Math.min(1, workDone / totalWork) : 1;
    const elapsed = (Date.now() - start) / 1000;
    const eta = count >= opts.total ? 0 : (etaSeconds(elapsed, workDone, totalWork) ?? 0);
    const width = 24;
    const filled = Math.round(pct * width);
    const bar = `${"#".repeat(filled)}${"-".repeat(width - filled)}`;
    return `${opts.label} [${bar}] ${count}/${opts.total} ${(pct * 100).toFixed(0)}% ${fmtSeconds(elapsed)} elapsed, ETA ${fmtSeconds(eta)}${note ? ` ${note}` : ""}`;
  };
  return {
    tick(n = 1, note, work) {
      count += n;
      workDone += work ?? (opts.work !== undefined ? (totalWork / Math.max(1, opts.total)) * n : n);
      const now = Date.now();
      if (tty) {
        if (now - lastDraw > 100 || count >= opts.total) {
          stream.write(`\r${render(note)}\x1b[K`);
          lastDraw = now;
        }
      } else {
        const pct = totalWork > 0 ? Math.floor(Math.min(1, workDone / totalWork) * 10) : 10;
        if (pct !== lastPct) {
          stream.write(`${render(note)}\n`);
          lastPct = pct;
        }
      }
    },
    done(note) {
      if (tty) stream.write(`\r${render(note)}\x1b[K\n`);
      else stream.write(`${render(note)}\n`);
    },
  };
}

export function fmtSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
}

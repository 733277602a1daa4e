/**
 * Progress reporting for long work. Writes to stderr (so stdout stays parseable, e.g. with --json),
 * redraws in place on a TTY and prints sparse lines otherwise (CI logs).
 */
export interface Progress {
  tick(n?: number, note?: string): void;
  done(note?: string): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  stream?: NodeJS.WriteStream;
  /** Disable output entirely (tests, --quiet). */
  silent?: boolean;
}

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.silent || process.env.CONCEPTBRIDGE_QUIET === "1") return { tick() {}, done() {} };
  const start = Date.now();
  let count = 0;
  let lastDraw = 0;
  let lastPct = -1;
  const tty = stream.isTTY === true;
  const render = (note?: string): string => {
    const pct = opts.total > 0 ? count / opts.total : 1;
    const elapsed = (Date.now() - start) / 1000;
    const eta = count > 0 && opts.total > count ? (elapsed / count) * (opts.total - count) : 0;
    const width = 24;
    const filled = Math.round(pct * width);
    const bar = `${"#".repeat(filled)}${"-".repeat(width - filled)}`;
    return `${opts.label} [${bar}] ${count}/${opts.total} ${(pct * 100).toFixed(0)}% ${fmtSeconds(elapsed)} elapsed, ETA ${fmtSeconds(eta)}${note ? ` ${note}` : ""}`;
  };
  return {
    tick(n = 1, note) {
      count += n;
      const now = Date.now();
      if (tty) {
        if (now - lastDraw > 100 || count >= opts.total) {
          stream.write(`\r${render(note)}\x1b[K`);
          lastDraw = now;
        }
      } else {
        const pct = opts.total > 0 ? Math.floor((count / opts.total) * 10) : 10;
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

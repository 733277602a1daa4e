import { isInputError } from "../util/errors.js";
import { redactUrlsIn } from "../util/redact.js";

/**
 * Wrap a command action: input errors print a clear one-line message and exit 2; other errors are
 * bugs and print their stack (exit 1). Code puts no secrets in messages, and as a last line of defence
 * every URL in what is printed loses its user-info and query values (util/redact.ts).
 */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<void> | void,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      if (isInputError(e)) {
        process.stderr.write(`error: ${redactUrlsIn(e.message)}\n`);
        process.exitCode = 2;
      } else {
        process.stderr.write(
          `internal error: ${redactUrlsIn(e instanceof Error ? (e.stack ?? e.message) : String(e))}\n`,
        );
        process.exitCode = 1;
      }
    }
  };
}

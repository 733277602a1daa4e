import { isInputError } from "../util/errors.js";

/**
 * Wrap a command action: input errors print a clear one-line message and exit 2; other errors are
 * bugs and print their stack (exit 1). Secrets never reach messages because no code puts them there.
 */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<void> | void,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      if (isInputError(e)) {
        process.stderr.write(`error: ${e.message}\n`);
        process.exitCode = 2;
      } else {
        process.stderr.write(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
        process.exitCode = 1;
      }
    }
  };
}

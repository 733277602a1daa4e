/**
 * Errors about user input (files, rows, fields, settings). The CLI prints their message and exits
 * non-zero; anything else is a bug and gets a stack trace.
 */
export interface InputLocation {
  /** File (or spec path such as `sites.A.adapter`) the problem is in. */
  file?: string;
  /** 1-based data row (header is row 1 for CSV, as a spreadsheet shows it). */
  row?: number;
  /** Column, key or setting name. */
  field?: string;
}

export class InputError extends Error {
  readonly location: InputLocation;
  constructor(message: string, location: InputLocation = {}) {
    super(formatLocation(location) + message);
    this.name = "InputError";
    this.location = location;
  }
}

function formatLocation({ file, row, field }: InputLocation): string {
  const parts: string[] = [];
  if (file !== undefined) parts.push(file);
  if (row !== undefined) parts.push(`row ${row}`);
  if (field !== undefined) parts.push(`field "${field}"`);
  return parts.length > 0 ? `${parts.join(", ")}: ` : "";
}

export function isInputError(e: unknown): e is InputError {
  return e instanceof InputError;
}

import assert from "node:assert/strict";
import { test } from "node:test";
import { csvLine, parseCsvRecords } from "../../src/data/csv.js";
import { InputError } from "../../src/util/errors.js";

const rows = (text: string) => parseCsvRecords(text, "t.csv").map((r) => [r.line, ...r.fields]);

test("RFC 4180: quoted commas, doubled quotes, line breaks inside quotes, CRLF, empty fields", () => {
  assert.deepEqual(rows('a,b,c\r\n1,"x, y","say ""hi"""\r\n'), [
    [1, "a", "b", "c"],
    [2, "1", "x, y", 'say "hi"'],
  ]);
  // A record spanning two lines keeps the line it starts on; the next record's line counts both.
  assert.deepEqual(rows('h1,h2\n"two\nlines",z\nlast,\n'), [
    [1, "h1", "h2"],
    [2, "two\nlines", "z"],
    [4, "last", ""],
  ]);
  assert.deepEqual(rows('a,""\n\n,b'), [
    [1, "a", ""],
    [3, "", "b"],
  ]);
  // No trailing newline, trailing delimiter at end of file.
  assert.deepEqual(rows('"q",\n'), [[1, "q", ""]]);
  assert.deepEqual(rows("x,"), [[1, "x", ""]]);
});

test("malformed quoting is an InputError with line and the column's header name", () => {
  assert.throws(
    () => rows('a,b\n1,"open\n2,3\n'),
    (e: unknown) => e instanceof InputError && e.location.row === 2 && e.location.field === "b",
  );
  // Case 6 of "Results a reviewer can trust": the header's name, not "column 64"; a column past the
  // header, or the header row itself, still goes by number.
  const wide = `${Array.from({ length: 64 }, (_, i) => (i === 63 ? "diagnosis" : `C${i}`)).join(",")}\n`;
  assert.throws(
    () => rows(`${wide}${"P,".repeat(63)}"I\n`),
    (e: unknown) =>
      e instanceof InputError && e.location.field === "diagnosis" && /unclosed quote/.test(e.message),
  );
  assert.throws(
    () => rows('a,"b\n'),
    (e: unknown) => e instanceof InputError && e.location.field === "column 2",
  );
  assert.throws(
    () => rows('a,b\n1,x"y\n'),
    (e: unknown) => e instanceof InputError && e.location.row === 2 && /quote inside/.test(e.message),
  );
  assert.throws(
    () => rows('a,b\n"x"y,1\n'),
    (e: unknown) =>
      e instanceof InputError && e.location.row === 2 && /after a closing quote/.test(e.message),
  );
});

test("csvLine quotes only when needed and round-trips through the parser", () => {
  const values = ["plain", "with, comma", 'with "quote"', "multi\nline", ""];
  const line = csvLine(values);
  assert.equal(line, 'plain,"with, comma","with ""quote""","multi\nline",\n');
  assert.deepEqual(parseCsvRecords(line, "t")[0].fields, values);
});

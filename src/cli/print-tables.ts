import type { TableView } from "../report/tables.js";

/** The report's tables as plain text for the terminal (same numbers as report.html). */
export function formatTables(tables: readonly TableView[]): string {
  const out: string[] = [];
  for (const t of tables) {
    out.push("", t.heading, t.subheading);
    const header = ["scenario", ...t.columns.map((c) => (c.isBaseline ? `${c.name} (baseline)` : c.name))];
    const rows = t.rows.map((r) => [
      r.isReference ? `${r.label} (ref)` : r.label,
      ...r.cells.map((c) => (c ? `${c.value} ${c.ci}${c.symbol ? ` ${c.symbol}` : ""}` : "")),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) =>
      cells
        .map((c, i) => c.padEnd(widths[i]))
        .join("  ")
        .trimEnd();
    out.push(line(header), widths.map((w) => "-".repeat(w)).join("  "));
    for (const r of rows) out.push(line(r));
    for (const n of t.notes) out.push(`  ${n}`);
  }
  return `${out.join("\n")}\n`;
}

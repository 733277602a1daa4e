import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import { type BrowserContext, chromium } from "playwright-core";
import { buildReport } from "../../src/report/build.js";
import { PROJECT_ROOT } from "../../src/util/paths.js";
import { writeSyntheticStore } from "./fixture.js";

/**
 * The report seen in a real browser: Debian's chromium driven by playwright-core opens report.html
 * from disk, every chart must have drawn marks, the console must stay clean, no request may leave the
 * file, and a full-page screenshot is saved for people to look at.
 */

const CHROMIUM = "/usr/bin/chromium";
const OUT = join(PROJECT_ROOT, "test-output", "report");
const haveChromium = existsSync(CHROMIUM);
// In CI the browser is installed by .ci/run: its absence is a failure there, a skip on a laptop.
const inCi = !!process.env.CI && process.env.CI !== "false" && process.env.CI !== "0";
const skip = !haveChromium && !inCi ? `${CHROMIUM} not found (apt-get install chromium)` : false;

let browser: BrowserContext | undefined;
let userDataDir: string | undefined;
let reportFile = "";
/** A wide report: 7 embeddings (8 table columns with the row header) and an auto arm. */
let wideFile = "";
const WIDE_EMBEDDINGS = [
  "onehot",
  "hashing",
  "bert",
  "biobert",
  "clinicalbert",
  "openai-large",
  "cooccurrence",
];

before(async () => {
  if (skip) return;
  const store = await writeSyntheticStore(join(OUT, "browser-store"));
  const built = await buildReport(store.dir, { out: join(OUT, "browser"), silent: true });
  reportFile = join(built.outDir, "report.html");
  const wide = await writeSyntheticStore(join(OUT, "browser-wide-store"), {
    embeddings: WIDE_EMBEDDINGS,
    auto: true,
  });
  const w = await buildReport(wide.dir, { out: join(OUT, "browser-wide"), silent: true });
  wideFile = join(w.outDir, "report.html");
});

function launch(): Promise<BrowserContext> {
  userDataDir = mkdtempSync(join(tmpdir(), "cb-chromium-"));
  // A fresh profile per run (playwright takes it as userDataDir, not as a --user-data-dir flag).
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    viewport: { width: 1280, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

after(async () => {
  await browser?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

test("report.html renders in headless Chromium: every chart drawn, no console errors, no network", {
  skip,
}, async () => {
  assert.ok(haveChromium, `${CHROMIUM} is missing: .ci/run must install the Debian chromium package`);
  browser ??= await launch();
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  const url = pathToFileURL(reportFile).href;
  const requests: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(url, { waitUntil: "load" });

  const charts = await page.$$eval("figure.chart", (figs) =>
    figs.map((f) => {
      const svg = f.querySelector("svg");
      const box = svg?.getBoundingClientRect();
      // vega draws each mark set in <g class="mark-...">; count the drawn shapes inside them.
      const shapes = svg
        ? svg.querySelectorAll('g[class*="mark-"] path, g[class*="mark-"] line, g[class*="mark-"] rect')
            .length
        : 0;
      const text = svg ? svg.querySelectorAll("text").length : 0;
      return {
        id: f.getAttribute("data-chart-id"),
        kind: f.getAttribute("data-kind"),
        width: box?.width ?? 0,
        height: box?.height ?? 0,
        shapes,
        text,
      };
    }),
  );
  // 2 directions x (bars, ROC, learning curve, calibration, net benefit).
  assert.equal(charts.length, 10, JSON.stringify(charts.map((c) => c.id)));
  assert.deepEqual([...new Set(charts.map((c) => c.kind))].sort(), [
    "bars",
    "calibration",
    "learning",
    "net-benefit",
    "roc",
  ]);
  for (const c of charts) {
    assert.ok(c.width > 100 && c.height > 100, `${c.id} has no visible size: ${c.width}x${c.height}`);
    // A line chart draws one path per curve (net benefit: a few arms plus treat all / none).
    assert.ok(c.shapes > (c.kind === "net-benefit" ? 3 : 10), `${c.id} drew only ${c.shapes} marks`);
    assert.ok(c.text > 5, `${c.id} has no axis text`);
  }
  // The table comes first and carries numbers.
  const firstTableCells = await page.$$eval(
    "table.results",
    (ts) => ts[0].querySelectorAll("td.cell").length,
  );
  assert.ok(firstTableCells >= 8, `first table has ${firstTableCells} cells`);
  const order = await page.$$eval("table.results, figure.chart", (els) =>
    els.map((e) => e.tagName.toLowerCase()),
  );
  assert.equal(order[0], "table", "the results table must come before the figures");

  assert.deepEqual(problems, []);
  assert.deepEqual(
    requests.filter((r) => r !== url),
    [],
    "the report must not fetch anything",
  );
  await mkdir(OUT, { recursive: true });
  await page.screenshot({ path: join(OUT, "report-screenshot.png"), fullPage: true });
  await page.screenshot({ path: join(OUT, "report-screenshot-top.png") });
  assert.ok(existsSync(join(OUT, "report-screenshot.png")));
});

/** Horizontal overflow of the page and of every table (a table wider than its box scrolls or is clipped). */
async function overflow(page: Awaited<ReturnType<BrowserContext["newPage"]>>) {
  const pageOverflow = await page.$eval("html", (h) => h.scrollWidth - h.clientWidth);
  const all = await page.$$eval("table", (ts) =>
    ts.map((t) => ({
      id: t.closest("[id]")?.id ?? "?",
      columns: t.querySelector("tr")?.children.length ?? 0,
      width: t.scrollWidth,
      room: t.parentElement?.clientWidth ?? 0,
    })),
  );
  return { page: pageOverflow, tables: all.filter((t) => t.width > t.room + 1), all };
}

test("first screen answers, tables fit at 1280 and 1920 px (8 columns), screenshots kept", {
  skip,
}, async () => {
  browser ??= await launch();
  const page = await browser.newPage();
  await mkdir(OUT, { recursive: true });
  for (const [width, height] of [
    [1280, 800],
    [1920, 1080],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.goto(pathToFileURL(wideFile).href, { waitUntil: "load" });
    const o = await overflow(page);
    assert.equal(o.page, 0, `page overflows by ${o.page} px at ${width}`);
    assert.deepEqual(o.tables, [], `tables overflow at ${width} px`);
    assert.ok(
      o.all.some((t) => t.columns === 8),
      `no 8-column table: ${JSON.stringify(o.all.map((t) => t.columns))}`,
    );
    await page.screenshot({ path: join(OUT, `report-first-screen-${width}.png`) });
    await page.screenshot({ path: join(OUT, `report-wide-${width}.png`), fullPage: true });
    assert.ok(existsSync(join(OUT, `report-first-screen-${width}.png`)));
  }
  // The first screen (1280 x 800): task, metric and the recommendation, above the fold.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(pathToFileURL(wideFile).href, { waitUntil: "load" });
  // (No named functions inside the page callbacks: tsx would wrap them in a helper the page lacks.)
  const box = (sel: string) =>
    page.$eval(sel, (el) => {
      const r = el.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, height: r.height, text: el.textContent ?? "" };
    });
  const [headline, recHead, firstRow] = await Promise.all([
    box("#answer .headline"),
    box("#answer table.rec thead"),
    box("#answer table.rec tbody tr"),
  ]);
  const visible = (b: { top: number; bottom: number; height: number }) =>
    b.height > 0 && b.top >= 0 && b.bottom <= 800;
  const first = {
    headline: headline.text,
    headlineVisible: visible(headline),
    recHeadVisible: visible(recHead),
    firstRowVisible: visible(firstRow),
    firstRow: firstRow.text,
  };
  assert.ok(first.headlineVisible && first.recHeadVisible && first.firstRowVisible, JSON.stringify(first));
  assert.match(first.headline, /Task\s*influenza-vs-rest \(binary: influenza vs other\)/);
  assert.match(first.headline, /Metric\s*AUROC/);
  assert.match(first.firstRow, /auto · bert/);
  assert.match(first.firstRow, /0\.\d{3} \[0\.\d{3}–0\.\d{3}\]/);
});

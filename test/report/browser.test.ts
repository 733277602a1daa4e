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

before(async () => {
  if (skip) return;
  const store = await writeSyntheticStore(join(OUT, "browser-store"));
  const built = await buildReport(store.dir, { out: join(OUT, "browser"), silent: true });
  reportFile = join(built.outDir, "report.html");
});

after(async () => {
  await browser?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

test("report.html renders in headless Chromium: every chart drawn, no console errors, no network", {
  skip,
}, async () => {
  assert.ok(haveChromium, `${CHROMIUM} is missing: .ci/run must install the Debian chromium package`);
  userDataDir = mkdtempSync(join(tmpdir(), "cb-chromium-"));
  // A fresh profile per run (playwright takes it as userDataDir, not as a --user-data-dir flag).
  browser = await chromium.launchPersistentContext(userDataDir, {
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
  // 2 directions x (bars, ROC, learning curve, calibration).
  assert.equal(charts.length, 8, JSON.stringify(charts.map((c) => c.id)));
  assert.deepEqual([...new Set(charts.map((c) => c.kind))].sort(), [
    "bars",
    "calibration",
    "learning",
    "roc",
  ]);
  for (const c of charts) {
    assert.ok(c.width > 100 && c.height > 100, `${c.id} has no visible size: ${c.width}x${c.height}`);
    assert.ok(c.shapes > 10, `${c.id} drew only ${c.shapes} marks`);
    assert.ok(c.text > 5, `${c.id} has no axis text`);
  }
  // The table comes first and carries numbers.
  const firstTableCells = await page.$$eval(
    "table.results",
    (ts) => ts[0].querySelectorAll("td.cell").length,
  );
  assert.ok(firstTableCells >= 9);
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

import assert from "node:assert/strict";
import { test } from "node:test";
import { pngInWorker, pngsInWorkers, rasterizeSvg, svgToPng } from "../../src/report/rasterize.js";

/*
 * The worker path (one short-lived thread per figure, so resvg's native memory is released after
 * each) writes the very bytes the in-thread path writes, and a broken SVG is an error, not a hang.
 */
const svg = (label: string, w = 160) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="40"><rect x="2" y="2" width="60" height="30" fill="#4e79a7"/><text x="70" y="26" font-family="DejaVu Sans" font-size="16">${label}</text></svg>`;

test("a PNG rasterised in a worker equals the in-thread PNG byte for byte", async () => {
  const a = svg("AUROC 0.81");
  const inThread = svgToPng(a);
  const inWorker = await pngInWorker(a);
  assert.ok(inThread.length > 500, "a real image");
  assert.deepEqual(Buffer.from(inWorker), Buffer.from(inThread));
  // The image really depends on its SVG (the comparison above could not pass with a constant).
  assert.notDeepEqual(Buffer.from(await pngInWorker(svg("AUROC 0.92"))), Buffer.from(inThread));
  const img = rasterizeSvg(a, 1);
  assert.deepEqual([img.width, img.height], [160, 40]);
});

test("pngsInWorkers keeps the order and reports each figure", async () => {
  const svgs = [svg("one", 120), svg("two", 200), svg("three", 160)];
  const seen: number[] = [];
  const pngs = await pngsInWorkers(svgs, 1, (i) => seen.push(i));
  assert.deepEqual(seen, [0, 1, 2]);
  for (let i = 0; i < svgs.length; i++)
    assert.deepEqual(Buffer.from(pngs[i]), Buffer.from(svgToPng(svgs[i], 1)));
});

test("a broken SVG rejects with resvg's error", async () => {
  await assert.rejects(pngInWorker("<svg this is not xml"), /svg|xml|parse/i);
});

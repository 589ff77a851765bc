/**
 * Makes docs/report.png, the README's picture of report.html: runs the shipped demo sweep
 * (bench.config.ts, against the simulator) into a temporary folder, opens its report.html in
 * Debian's `chromium` with the network cut off, and keeps the top of the page (the summary table
 * and the first curves). Run after `npm run build`:
 *   npx bun scripts/report-screenshot.ts [out.png]
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CHROMIUM, hasChromium, launchBrowser, openReport } from "../tests/helpers/browser.ts";

const out = resolve(process.argv[2] ?? "docs/report.png");
if (!hasChromium) {
  console.error(`report-screenshot: no chromium at ${CHROMIUM} (apt-get install chromium)`);
  process.exit(2);
}
const work = mkdtempSync(join(tmpdir(), "llmbench-screenshot-"));
try {
  const sweep = Bun.spawn(["./llmbench", "sweep", "bench.config.ts", "--output-dir", work, "--no-progress"], { stdout: "inherit", stderr: "inherit" });
  if ((await sweep.exited) !== 0) throw new Error("the demo sweep failed");
  const day = readdirSync(work).find((name) => /^\d{4}-\d{2}-\d{2}$/.test(name))!;
  const run = join(work, day, readdirSync(join(work, day))[0]!);
  const browser = await launchBrowser();
  try {
    const { page, errors } = await openReport(browser, join(run, "report.html"));
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.waitForTimeout(300); // the charts redraw at the new width
    if (errors.length > 0) throw new Error(`the page logged errors: ${errors.join("; ")}`);
    const top = await page.locator("#summary").boundingBox();
    await page.screenshot({ path: out, clip: { x: 0, y: Math.max(0, (top?.y ?? 0) - 16), width: 1100, height: 760 } });
  } finally {
    await browser.close();
  }
  console.log(`report-screenshot: ${out} (${Math.round(statSync(out).size / 1024)} KB)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

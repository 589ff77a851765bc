/**
 * Headless Chromium (Debian's `chromium`) driven by playwright-core, with the network cut off:
 * every request that is not for the file itself is aborted and recorded.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const ARTIFACTS = resolve(import.meta.dir, "../../test-artifacts");
export const hasChromium = existsSync(CHROMIUM);

const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

export interface LoadedPage {
  page: Page;
  /** Console errors and uncaught exceptions. */
  errors: string[];
  /** Every request the page tried beyond its own file (all aborted). */
  blocked: string[];
}

export async function openReport(browser: Browser, path: string): Promise<LoadedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, offline: true });
  const page = await context.newPage();
  const errors: string[] = [];
  const blocked: string[] = [];
  const own = pathToFileURL(path).href;
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url === own) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  await page.goto(own, { waitUntil: "load" });
  return { page, errors, blocked };
}

// Evaluated in the page (the test's TypeScript has no DOM types), as source text.
const CHART_STATES = `[...document.querySelectorAll(".chart")].map((chart) => {
  const canvas = chart.querySelector("canvas");
  let painted = false;
  if (canvas && canvas.width > 0 && canvas.height > 0) {
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) { painted = true; break; }
  }
  return { id: chart.id, painted, rendered: chart.dataset.rendered === "1" };
})`;

const FIELD_CELLS = `[...document.querySelectorAll("td[data-field]")].map((cell) => ({
  field: cell.dataset.field,
  point: cell.dataset.point ?? null,
  source: cell.dataset.source ?? null,
  run: cell.dataset.run ?? null,
  text: cell.textContent ?? "",
}))`;

/** Per chart: its id, whether client.js drew it, and whether its canvas has any painted pixel. */
export async function chartStates(page: Page): Promise<{ id: string; painted: boolean; rendered: boolean }[]> {
  return (await page.evaluate(CHART_STATES)) as { id: string; painted: boolean; rendered: boolean }[];
}

export interface FieldCell {
  field: string;
  point: string | null;
  source: string | null;
  run: string | null;
  text: string;
}

/** Every table cell that names the summary field it shows. */
export async function fieldCells(page: Page): Promise<FieldCell[]> {
  return (await page.evaluate(FIELD_CELLS)) as FieldCell[];
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path, fullPage: true });
  return path;
}

import { expect, test } from "bun:test";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");

test("the README opens with the set-up-and-run command and the test command that CI runs", async () => {
  const firstLines = (await Bun.file(resolve(ROOT, "README.md")).text()).split("\n").slice(0, 8);
  const commands = firstLines.filter((line) => /^(npm|bun|\.\/llmbench)/.test(line)).map((line) => line.replace(/\s+#.*$/, ""));
  expect(commands).toEqual(["npm ci && npm run build && ./llmbench sweep bench.config.ts", "npm ci && npm test"]);
  const ci = await Bun.file(resolve(ROOT, ".ci/run")).text();
  expect(ci).toContain("npm ci");
  expect(ci).toMatch(/^npm test\b/m);
  expect(await Bun.file(resolve(ROOT, "bench.config.ts")).exists()).toBe(true);
});

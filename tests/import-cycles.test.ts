/**
 * Data flows one way: no module of src/ may import itself back through others. Every relative
 * import (type-only ones too: they tie the modules' designs together just the same) is followed;
 * a cycle fails the test, named module by module.
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../src");
const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Each module's relative imports, as paths under src/. */
export function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(root)) {
    const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    const targets = [...text.matchAll(IMPORT)].map((match) => relative(root, resolve(dirname(file), match[1] ?? match[2]!)));
    graph.set(relative(root, file), [...new Set(targets.filter((target) => target.endsWith(".ts")))]);
  }
  return graph;
}

/** Every cycle found by a depth-first walk, each as the modules around it (the first one repeated at the end). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

test("the checker finds a cycle, and names its modules", () => {
  const graph = new Map([["a.ts", ["b.ts"]], ["b.ts", ["c.ts"]], ["c.ts", ["a.ts"]], ["d.ts", ["a.ts"]]]);
  expect(findCycles(graph)).toEqual([["a.ts", "b.ts", "c.ts", "a.ts"]]);
  expect(findCycles(new Map([["a.ts", ["b.ts"]], ["b.ts", []]]))).toEqual([]);
});

test("src/ has no import cycle", () => {
  const graph = importGraph(SRC);
  expect(graph.size).toBeGreaterThan(100);
  expect(graph.get("cli.ts")?.length ?? 0).toBeGreaterThan(0);
  const cycles = findCycles(graph).map((cycle) => cycle.join(" → "));
  expect(cycles).toEqual([]);
});

test("config/ reads no runner, server or command module: settings flow into them, not back", () => {
  const graph = importGraph(SRC);
  const upward = [...graph].flatMap(([module, targets]) =>
    module.startsWith("config/") ? targets.filter((target) => /^(runner|server|commands)\//.test(target)).map((target) => `${module} → ${target}`) : [],
  );
  expect(upward).toEqual([]);
});

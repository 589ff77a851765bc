/**
 * Writes a ShareGPT_V3-shaped file of about the given size (default 640 MB), with multi-turn
 * conversations, for the large-dataset load benchmark. Deterministic. Not committed: generated on demand.
 *   bun bench/make-large-sharegpt.ts OUT_FILE [MEGABYTES]
 */
import { seededRandom } from "../src/dataset/prng.ts";

const out = process.argv[2];
if (!out) throw new Error("usage: bun bench/make-large-sharegpt.ts OUT_FILE [MEGABYTES]");
const targetBytes = Number(process.argv[3] ?? 640) * 1024 * 1024;
const random = seededRandom(640);
const words = "the of and to in is that for it as with was on be by this are from at or an but not have which one all their has more can".split(" ");
const text = (n: number) => {
  let s = "";
  for (let i = 0; i < n; i++) s += (i ? " " : "") + words[Math.floor(random() * words.length)];
  return s;
};

const writer = Bun.file(out).writer();
writer.write("[");
let written = 1;
for (let i = 0; written < targetBytes; i++) {
  const turns = 2 * (1 + Math.floor(random() * 4));
  const conversations = Array.from({ length: turns }, (_, t) => ({
    from: t % 2 === 0 ? "human" : "gpt",
    value: text(t % 2 === 0 ? 5 + Math.floor(random() * 120) : 20 + Math.floor(random() * 400)),
  }));
  const entry = (i ? ",\n" : "\n") + JSON.stringify({ id: `synthetic_${i}`, conversations });
  writer.write(entry);
  written += entry.length;
}
writer.write("\n]\n");
await writer.end();
console.log(`wrote ${(written / 1024 / 1024).toFixed(0)} MB to ${out}`);

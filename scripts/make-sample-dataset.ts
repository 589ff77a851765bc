/**
 * Generates datasets/sharegpt_sample.json: a small ShareGPT-shaped dataset that ships with llmbench so
 * a fresh clone can run a benchmark at once. Deterministic: running it again gives the same file.
 *   bun scripts/make-sample-dataset.ts [out-file] [conversations]
 */
import { seededRandom } from "../src/dataset/prng.ts";

const out = process.argv[2] ?? "datasets/sharegpt_sample.json";
const count = Number(process.argv[3] ?? 256);
const random = seededRandom(20241127);
const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

const asks = [
  "Explain how {topic} works, step by step.",
  "Write a short story about {topic}.",
  "What are the pros and cons of {topic}? Give examples.",
  "Summarize the history of {topic} for a new engineer.",
  "I am preparing a talk on {topic}. Draft an outline with key points.",
  "Compare {topic} with the alternatives and recommend one for a small team.",
  "Write Python code that demonstrates {topic}, with comments.",
  "Translate this note about {topic} into plain English: {filler}",
];
const topics = [
  "continuous batching in LLM servers", "paged attention", "prefix caching", "tensor parallelism",
  "speculative decoding", "quantization to int4", "KV cache eviction", "TCP congestion control",
  "garbage collection in the JVM", "consistent hashing", "B-trees", "Raft consensus", "CUDA graphs",
  "the Fourier transform", "photosynthesis", "the French revolution", "sourdough baking",
  "container orchestration", "rate limiting", "vector databases",
];
const sentences = [
  "The main idea is simple once the moving parts are named.",
  "In practice the details matter more than the theory suggests.",
  "Engineers usually start with a baseline and measure before they optimise.",
  "Each step trades memory for time or time for simplicity.",
  "A small example makes the behaviour easy to see.",
  "Under load the picture changes, and queues start to form.",
  "The trade-off depends on the workload and on the hardware.",
  "Most failures come from assumptions nobody wrote down.",
  "Latency and throughput pull in different directions.",
  "A careful benchmark separates the client's cost from the server's.",
];
const paragraph = (sentencesWanted: number) => Array.from({ length: sentencesWanted }, () => pick(sentences)).join(" ");

const conversations = Array.from({ length: count }, (_, i) => {
  const topic = pick(topics);
  const ask = pick(asks).replace("{topic}", topic).replace("{filler}", paragraph(1 + Math.floor(random() * 6)));
  const context = random() < 0.3 ? `${paragraph(2 + Math.floor(random() * 20))}\n\n` : "";
  // Answer lengths spread like ShareGPT's: many short, a long tail (about 10 to 700 words).
  const answerSentences = Math.max(1, Math.round(Math.exp(1 + random() * 3.5)));
  return {
    id: `llmbench-sample-${i}`,
    conversations: [
      { from: "human", value: `${context}${ask}` },
      { from: "gpt", value: paragraph(answerSentences) },
    ],
  };
});

await Bun.write(out, JSON.stringify(conversations, null, 1) + "\n");
console.log(`wrote ${conversations.length} conversations to ${out}`);

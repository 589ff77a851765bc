import type { Backend, BackendOptions } from "./backend.ts";
import { openAiCompletionsBackend } from "./openai-completions.ts";

/** Every backend by its --backend name. Adding a protocol is one file plus one line here. */
const BACKENDS: Record<string, (options: BackendOptions) => Backend> = {
  vllm: openAiCompletionsBackend,
};

export const BACKEND_NAMES = Object.keys(BACKENDS);

export function createBackend(name: string, options: BackendOptions): Backend {
  const factory = BACKENDS[name];
  if (!factory) throw new Error(`unknown backend ${name}`);
  return factory(options);
}

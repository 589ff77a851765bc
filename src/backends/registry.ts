import type { Backend, BackendDefinition, BackendOptions } from "./backend.ts";
import { amsv2Backend } from "./amsv2.ts";
import { lightllmBackend } from "./lightllm.ts";
import { llamacppBackend } from "./llamacpp.ts";
import { openAiChatBackend } from "./openai-chat.ts";
import { openAiCompletionsBackend } from "./openai-completions.ts";
import { pplBackend } from "./ppl.ts";
import { sglangBackend } from "./sglang.ts";
import { tgiBackend } from "./tgi.ts";
import { withThinkTags } from "./think-tags.ts";
import { trtllmBackend } from "./trtllm.ts";

/** Every backend, by its --backend name (`definition.name`). Adding a protocol is one file plus one line here. */
const DEFINITIONS: readonly BackendDefinition[] = [
  openAiCompletionsBackend,
  openAiChatBackend,
  lightllmBackend,
  pplBackend,
  sglangBackend,
  tgiBackend,
  trtllmBackend,
  llamacppBackend,
  amsv2Backend,
];

const BACKENDS: Record<string, BackendDefinition> = Object.fromEntries(DEFINITIONS.map((definition) => [definition.name, definition]));

export const BACKEND_NAMES = Object.keys(BACKENDS);

export function backendDefinition(name: string): BackendDefinition {
  const definition = BACKENDS[name];
  if (!definition) throw new Error(`unknown backend ${name}`);
  return definition;
}

export function createBackend(name: string, options: BackendOptions): Backend {
  const backend = backendDefinition(name).create(options);
  return options.thinkTags ? withThinkTags(backend) : backend;
}

import { httpBackend } from "./http-generation.ts";
import { fastOpenAiDecoder } from "./openai-fast.ts";
import { OPENAI_HEALTH_PATHS, openAiDecoder, openAiSamplingFields, readChatDelta } from "./openai-stream.ts";

/**
 * OpenAI chat: POST /v1/chat/completions with the conversation as chat messages. The first delta
 * is often `{"role":"assistant","content":""}`: it carries no token and must not count as the
 * first one. Reasoning models stream `reasoning` or `reasoning_content` before `content`, and
 * tool calls stream as `tool_calls[].function.arguments`: all of them are output tokens, but only
 * `content` is the answer's text (`readChatDelta` has the list).
 */
export const openAiChatBackend = httpBackend({
  name: "openai-chat",
  defaultBaseUrl: "http://127.0.0.1:8000",
  defaultApiKeyEnv: "OPENAI_API_KEY",
  path: "/v1/chat/completions",
  health: OPENAI_HEALTH_PATHS,
  body: (request, options) => ({ messages: request.messages, ...openAiSamplingFields(options.model, request.outputLen) }),
  decoder: (state) => fastOpenAiDecoder(state, "chat", openAiDecoder(state, readChatDelta)),
  referenceDecoder: (state) => openAiDecoder(state, readChatDelta),
});

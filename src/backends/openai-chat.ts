import { httpBackend } from "./http-generation.ts";
import { OPENAI_GAUGES, OPENAI_HEALTH_PATHS, openAiDecoder, openAiSamplingFields } from "./openai-stream.ts";
import { objectOf, stringOf } from "./stream-state.ts";

/**
 * OpenAI chat: POST /v1/chat/completions with the conversation as chat messages. The first delta
 * is often `{"role":"assistant","content":""}`: it carries no token and must not count as the
 * first one. Reasoning models stream `reasoning_content` before `content`: those are output tokens
 * too, but not part of the answer's text.
 */
export const openAiChatBackend = httpBackend({
  name: "openai-chat",
  defaultBaseUrl: "http://127.0.0.1:8000",
  defaultApiKeyEnv: "OPENAI_API_KEY",
  path: "/v1/chat/completions",
  health: OPENAI_HEALTH_PATHS,
  gauges: OPENAI_GAUGES,
  body: (request, options) => ({ messages: request.messages, ...openAiSamplingFields(options.model, request.outputLen) }),
  decoder: (state) => openAiDecoder(state, chatDeltaText),
});

export function chatDeltaText(choice: Record<string, unknown>): { text: string; carriesToken: boolean } {
  const delta = objectOf(choice.delta);
  const text = stringOf(delta?.content) ?? "";
  const reasoning = stringOf(delta?.reasoning_content) ?? "";
  return { text, carriesToken: text.length > 0 || reasoning.length > 0 };
}

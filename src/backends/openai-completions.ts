import { promptText } from "./backend.ts";
import { httpBackend } from "./http-generation.ts";
import { fastOpenAiDecoder } from "./openai-fast.ts";
import { OPENAI_HEALTH_PATHS, openAiDecoder, openAiSamplingFields, readCompletionChoice } from "./openai-stream.ts";

/** vLLM and every OpenAI-compatible server: POST /v1/completions with the conversation as one prompt. */
export const openAiCompletionsBackend = httpBackend({
  name: "vllm",
  defaultBaseUrl: "http://127.0.0.1:8000",
  defaultApiKeyEnv: "OPENAI_API_KEY",
  path: "/v1/completions",
  health: OPENAI_HEALTH_PATHS,
  body: (request, options) => ({ prompt: promptText(request.messages), ...openAiSamplingFields(options.model, request.outputLen) }),
  decoder: (state) => fastOpenAiDecoder(state, "completions", openAiDecoder(state, readCompletionChoice)),
  referenceDecoder: (state) => openAiDecoder(state, readCompletionChoice),
});

import { promptText, type BackendDefinition } from "./backend.ts";
import { baseOf, generateOverHttp, requestHeaders } from "./http-generation.ts";
import { openAiDecoder, openAiHealth, openAiSamplingFields } from "./openai-stream.ts";
import { stringOf } from "./stream-state.ts";

/** vLLM and every OpenAI-compatible server: POST /v1/completions with the conversation as one prompt. */
export const openAiCompletionsBackend: BackendDefinition = {
  name: "vllm",
  address: "http-url",
  defaultBaseUrl: "http://127.0.0.1:8000",
  defaultApiKeyEnv: "OPENAI_API_KEY",
  create(options) {
    const endpoint = new URL(`${baseOf(options)}/v1/completions`);
    const headers = requestHeaders(options);
    return {
      name: "vllm",
      checkHealth: openAiHealth(options),
      generate: (request, onTokens, signal, onRawEvent) =>
        generateOverHttp(
          {
            endpoint,
            headers,
            insecure: options.insecure,
            body: { prompt: promptText(request.messages), ...openAiSamplingFields(options.model, request.outputLen) },
            decoder: (state) =>
              openAiDecoder(state, (choice) => {
                const text = stringOf(choice.text) ?? "";
                return { text, carriesToken: text.length > 0 };
              }),
          },
          onTokens,
          signal,
          onRawEvent,
        ),
    };
  },
};

import { promptText, type Backend, type BackendOptions, type GenerationOutcome, type GenerationRequest, type TokenListener } from "./backend.ts";
import { SseParser } from "./transport/sse.ts";
import { describeNetworkError, getText, streamHttp } from "./transport/http.ts";

interface CompletionChunk {
  choices?: Array<{ text?: string; finish_reason?: string | null }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string } | string;
  object?: string;
  message?: string;
}

/**
 * vLLM and every OpenAI-compatible server: POST /v1/completions, streamed. Asks for usage in every
 * chunk (`continuous_usage_stats`), which gives exact per-chunk token counts where the server has
 * it; otherwise each chunk with text is one token and the final usage gives the total.
 */
export function openAiCompletionsBackend(options: BackendOptions): Backend {
  const base = options.baseUrl.replace(/\/+$/, "");
  const endpoint = new URL(`${base}/v1/completions`);
  const headers: Record<string, string> = { "content-type": "application/json", accept: "text/event-stream" };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;

  return {
    name: "vllm",

    async checkHealth(signal) {
      const health = await getText(new URL(`${base}/health`), signal, headers, options.insecure);
      if (health.status === 200) return;
      const models = await getText(new URL(`${base}/v1/models`), signal, headers, options.insecure);
      if (models.status === 200) return;
      throw new Error(`${base}/health answered HTTP ${health.status} and /v1/models HTTP ${models.status}`);
    },

    async generate(request: GenerationRequest, onTokens: TokenListener, signal: AbortSignal): Promise<GenerationOutcome> {
      const body = JSON.stringify({
        model: options.model,
        prompt: promptText(request.messages),
        max_tokens: request.outputLen,
        min_tokens: request.outputLen,
        ignore_eos: true,
        temperature: 0,
        stream: true,
        stream_options: { include_usage: true, continuous_usage_stats: true },
      });
      const outcome: GenerationOutcome = { error: null, serverOutTokens: null, serverPromptTokens: null, finishReason: null, text: "" };
      const parser = new SseParser();
      let countedTokens = 0;
      let done = false;

      const handle = (payload: string, at: number) => {
        if (done || outcome.error) return;
        if (payload === "[DONE]") {
          done = true;
          return;
        }
        let chunk: CompletionChunk;
        try {
          chunk = JSON.parse(payload) as CompletionChunk;
        } catch {
          outcome.error = `unparseable stream event: ${payload.slice(0, 200)}`;
          return;
        }
        if (chunk.error !== undefined || chunk.object === "error") {
          outcome.error = `server error: ${errorMessage(chunk)}`;
          return;
        }
        const usage = chunk.usage;
        if (usage?.prompt_tokens !== undefined) outcome.serverPromptTokens = usage.prompt_tokens;
        if (usage?.completion_tokens !== undefined) outcome.serverOutTokens = usage.completion_tokens;
        const choice = chunk.choices?.[0];
        if (!choice) return;
        const text = choice.text ?? "";
        if (choice.finish_reason) outcome.finishReason = choice.finish_reason;
        const tokens =
          usage?.completion_tokens !== undefined ? usage.completion_tokens - countedTokens : text.length > 0 ? 1 : 0;
        countedTokens += tokens;
        outcome.text += text;
        if (tokens > 0 || text.length > 0) onTokens(at, tokens, text);
      };

      let head;
      try {
        head = await streamHttp(endpoint, { method: "POST", headers, body, signal, insecure: options.insecure }, (text, at) => {
          for (const payload of parser.push(text)) handle(payload, at);
        });
      } catch (error) {
        if (signal.aborted) throw error;
        return { ...outcome, error: describeNetworkError(error) };
      }
      if (head.errorBody !== null) return { ...outcome, error: `HTTP ${head.status}: ${head.errorBody.trim().slice(0, 300)}` };
      for (const payload of parser.flush()) handle(payload, performance.now());
      if (!outcome.error && !done && outcome.finishReason === null) outcome.error = "stream ended before the answer was complete";
      return outcome;
    },
  };
}

function errorMessage(chunk: CompletionChunk): string {
  if (typeof chunk.error === "string") return chunk.error;
  return chunk.error?.message ?? chunk.message ?? JSON.stringify(chunk).slice(0, 300);
}

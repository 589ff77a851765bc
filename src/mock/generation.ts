import type { TimingModel } from "./timing.ts";
import { epochMs, type TruthLog } from "./truth-log.ts";

const WORDS = [" the", " model", " answers", " with", " simulated", " tokens", " at", " a", " steady", " pace", ",", " and", " then", " some", " more", "."];

/** The text of output token i: deterministic, never empty, so every token is visible in a stream. */
export function tokenText(index: number): string {
  return WORDS[index % WORDS.length]!;
}

/** How many tokens the simulator writes for a request that asked for `asked`: the server's cap applies. */
export function cappedLength(context: MockContext, asked: number): number {
  return context.maxOutputTokens === null ? asked : Math.min(asked, context.maxOutputTokens);
}

/** The simulator's stand-in for a tokenizer: about four characters a token, as for English text. */
export function approximateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

export interface StreamFormat {
  /**
   * Bytes written as soon as the request arrives. Bun sends the response headers only with the
   * first bytes, while real servers (uvicorn, axum) send them at once; an SSE comment does that.
   */
  prelude?: string;
  /** The bytes of one event carrying `texts` (tokens first+1 … first+texts.length); `finished` on the last. */
  tokens(texts: string[], emittedSoFar: number, finished: boolean): string;
  /** Bytes after the last token event (usage, [DONE]), if any. */
  end(): string;
}

export interface MockContext {
  protocol: string;
  model: string;
  /** Every answer is cut at this many tokens, as a server with a length limit does (null: no cap). */
  maxOutputTokens: number | null;
  /** Write each prompt's text into the truth log. */
  logPrompts: boolean;
  timing: TimingModel;
  truth: TruthLog;
  nextId(): number;
}

/**
 * Streams one generation: the timing model says when tokens are ready, `format` turns them into
 * the protocol's bytes, and every write time goes to the truth log.
 */
export function streamGeneration(
  context: MockContext,
  request: Request,
  promptTokens: number,
  outputTokens: number,
  format: StreamFormat,
  prompt: string,
  headers: Record<string, string> = { "content-type": "text/event-stream", "cache-control": "no-cache" },
): Response {
  const arrival = epochMs();
  const id = context.nextId();
  const tokenMs: number[] = [];
  const stream = new ReadableStream({
    type: "direct",
    pull(controller) {
      return new Promise<void>((resolve) => {
        let finished = false;
        const finish = (status: "ok" | "cancelled") => {
          if (finished) return;
          finished = true;
          context.truth.append({
            id, protocol: context.protocol, arrival_ms: arrival, prompt_tokens: promptTokens,
            output_tokens: tokenMs.length, token_ms: tokenMs, end_ms: epochMs(), status,
            ...(context.logPrompts ? { prompt } : {}),
          });
          resolve();
        };
        const sequence = {
          promptTokens,
          outputTokens,
          emitted: 0,
          cancelled: false,
          emit(count: number) {
            if (sequence.cancelled || finished) return;
            const first = sequence.emitted;
            sequence.emitted += count;
            const done = sequence.emitted >= outputTokens;
            const texts = Array.from({ length: count }, (_, i) => tokenText(first + i));
            let bytes = format.tokens(texts, sequence.emitted, done);
            if (done) bytes += format.end();
            try {
              controller.write(bytes);
              controller.flush();
            } catch {
              sequence.cancelled = true;
              finish("cancelled");
              return;
            }
            const at = epochMs();
            for (let i = 0; i < count; i++) tokenMs.push(at);
            if (done) {
              controller.close();
              finish("ok");
            }
          },
        };
        if (format.prelude) {
          controller.write(format.prelude);
          controller.flush();
        }
        request.signal.addEventListener("abort", () => {
          sequence.cancelled = true;
          finish("cancelled");
        }, { once: true });
        context.timing.admit(sequence);
      });
    },
  });
  return new Response(stream, { headers });
}

export function jsonResponse(body: unknown, status = 200): Response {
  return Response.json(body, { status });
}

import { appendFileSync } from "node:fs";
import type { MockContext, MockFaults } from "./generation.ts";
import { amsv2Protocol } from "./protocols/amsv2.ts";
import { lightllmProtocol } from "./protocols/lightllm.ts";
import { llamacppProtocol } from "./protocols/llamacpp.ts";
import { openAiChatProtocol } from "./protocols/openai-chat.ts";
import { openAiCompletionsProtocol } from "./protocols/openai-completions.ts";
import { pplV1Protocol, pplV2Protocol } from "./protocols/ppl.ts";
import type { HttpMockProtocol, MockProtocol } from "./protocols/protocol.ts";
import { sglangProtocol } from "./protocols/sglang.ts";
import { tgiProtocol } from "./protocols/tgi.ts";
import { trtllmProtocol } from "./protocols/trtllm.ts";
import type { TimingModel } from "./timing.ts";
import { TruthLog } from "./truth-log.ts";

export const MOCK_PROTOCOLS: Record<string, MockProtocol> = Object.fromEntries(
  [
    openAiCompletionsProtocol,
    openAiChatProtocol,
    lightllmProtocol,
    pplV2Protocol,
    pplV1Protocol,
    sglangProtocol,
    tgiProtocol,
    trtllmProtocol,
    llamacppProtocol,
    amsv2Protocol,
  ].map((protocol) => [protocol.name, protocol]),
);

export interface MockServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  protocol: string;
  model: string;
  timing: TimingModel;
  truthLogPath: string | null;
  /** Generation requests must carry this Bearer key (HTTP 401 / gRPC UNAUTHENTICATED otherwise); null: no check. */
  apiKey?: string | null;
  faults?: MockFaults;
  /** Write each prompt's text into the truth log. */
  logPrompts?: boolean;
  /** Append each POST's headers (but the key) and body fields (but the prompt) to this file, one JSON line each. */
  requestLogPath?: string | null;
}

export interface RunningMock {
  /** http://host:port, or host:port for gRPC protocols. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startMockServer(options: MockServerOptions): Promise<RunningMock> {
  const protocol = MOCK_PROTOCOLS[options.protocol];
  if (!protocol) throw new Error(`unknown mock protocol ${options.protocol}`);
  let ids = 0;
  const context: MockContext = {
    protocol: protocol.name,
    model: options.model,
    timing: options.timing,
    truth: new TruthLog(options.truthLogPath),
    nextId: () => ids++,
    apiKey: options.apiKey ?? null,
    faults: options.faults ?? { failAfterTokens: null, ignoreEos: false, maxOutputTokens: null },
    logPrompts: options.logPrompts ?? false,
  };
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  if (protocol.kind === "grpc") {
    const server = await protocol.serve(options.host, options.port, context);
    return { url: `${host}:${server.port}`, port: server.port, stop: server.stop };
  }
  const server = serveHttp(protocol, options, context);
  return { url: `http://${host}:${server.port}`, port: server.port!, stop: () => server.stop(true) };
}

/** --request-log: what the client sent besides the prompt, so tests see headers and extra body fields arrive. */
async function logRequest(path: string, request: { headers: Iterable<[string, string]>; url: string; json(): Promise<unknown> }): Promise<void> {
  const headers = Object.fromEntries([...request.headers].filter(([name]) => name !== "authorization"));
  const body = (await request.json().catch(() => null)) as Record<string, unknown> | null;
  for (const text of ["prompt", "messages", "inputs", "text", "text_input"]) delete body?.[text];
  appendFileSync(path, JSON.stringify({ path: new URL(request.url).pathname, headers, body }) + "\n");
}

function serveHttp(protocol: HttpMockProtocol, options: MockServerOptions, context: MockContext) {
  return Bun.serve({
    hostname: options.host,
    port: options.port,
    idleTimeout: 0, // a long prefill must not look like an idle connection
    async fetch(request) {
      const path = new URL(request.url).pathname;
      const route = protocol.routes[`${request.method} ${path}`];
      if (!route) return protocol.error(`no route ${request.method} ${path}`, 404);
      // As vLLM with --api-key: generation needs the key, health and model listings do not.
      if (context.apiKey !== null && request.method === "POST" && request.headers.get("authorization") !== `Bearer ${context.apiKey}`) {
        return protocol.error("missing or invalid API key", 401);
      }
      if (options.requestLogPath && request.method === "POST") await logRequest(options.requestLogPath, request.clone());
      return route(request, context);
    },
  });
}

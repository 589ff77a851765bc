import { appendFileSync } from "node:fs";
import { FaultSchedule, NO_FAULTS, isStreamFault, planStreamFault, type FaultName, type FaultPlan } from "./faults.ts";
import { epochMs } from "./truth-log.ts";
import { jsonResponse, type MockContext, type MockFaults } from "./generation.ts";
import { KEEP_ALIVE, serveHttp1, type ConnectionBehaviour, type Exchange } from "./http1.ts";
import { amsv2Protocol } from "./protocols/amsv2.ts";
import { lightllmProtocol } from "./protocols/lightllm.ts";
import { llamacppProtocol } from "./protocols/llamacpp.ts";
import { openAiChatProtocol } from "./protocols/openai-chat.ts";
import { openAiCompletionsProtocol } from "./protocols/openai-completions.ts";
import type { GrpcMockProtocol, HttpMockProtocol, MockProtocol } from "./protocols/protocol.ts";
import { sglangProtocol } from "./protocols/sglang.ts";
import { tgiProtocol } from "./protocols/tgi.ts";
import { trtllmProtocol } from "./protocols/trtllm.ts";
import type { TimingModel } from "./timing.ts";
import { PrefixCache, type PrefixCacheSettings } from "./prefix-cache.ts";
import { TruthLog } from "./truth-log.ts";

/** A ppl protocol whose module (grpc-js and proto-loader, ~150 ms to load) is imported only when it serves. */
function lazyPpl(name: string, pick: (module: typeof import("./protocols/ppl.ts")) => GrpcMockProtocol): GrpcMockProtocol {
  return { kind: "grpc", name, serve: async (...args) => pick(await import("./protocols/ppl.ts")).serve(...args) };
}
const pplV2Protocol = lazyPpl("ppl", (module) => module.pplV2Protocol);
const pplV1Protocol = lazyPpl("ppl-v1", (module) => module.pplV1Protocol);

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
  /** How kept-alive connections are treated (HTTP protocols). */
  connections?: ConnectionBehaviour;
  /** The fault matrix (--faults). */
  faultPlan?: FaultPlan;
  /** A prefix cache of this shape (--prefix-cache); absent or null: none. Each server has its own. */
  prefixCache?: PrefixCacheSettings | null;
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
    faultSchedule: new FaultSchedule(options.faultPlan ?? NO_FAULTS),
    prefixCache: options.prefixCache ? new PrefixCache(options.prefixCache) : null,
  };
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  if (protocol.kind === "grpc") {
    const server = await protocol.serve(options.host, options.port, context);
    return { url: `${host}:${server.port}`, port: server.port, stop: server.stop };
  }
  const server = serveHttp(protocol, options, context);
  return { url: `http://${host}:${server.port}`, port: server.port, stop: () => server.stop() };
}

/** --request-log: what the client sent besides the prompt, so tests see headers and extra body fields arrive. */
async function logRequest(path: string, request: { headers: Iterable<[string, string]>; url: string; json(): Promise<unknown> }): Promise<void> {
  const headers = Object.fromEntries([...request.headers].filter(([name]) => name !== "authorization"));
  const body = (await request.json().catch(() => null)) as Record<string, unknown> | null;
  for (const text of ["prompt", "messages", "inputs", "text", "text_input"]) delete body?.[text];
  appendFileSync(path, JSON.stringify({ path: new URL(request.url).pathname, headers, body }) + "\n");
}

function serveHttp(protocol: HttpMockProtocol, options: MockServerOptions, context: MockContext) {
  return serveHttp1({
    hostname: options.host,
    port: options.port,
    connections: options.connections ?? KEEP_ALIVE,
    async handle(request, exchange) {
      const path = new URL(request.url).pathname;
      const route = protocol.routes[`${request.method} ${path}`];
      if (!route) return protocol.error(`no route ${request.method} ${path}`, 404);
      // As vLLM with --api-key: generation needs the key, health and model listings do not.
      if (context.apiKey !== null && request.method === "POST" && request.headers.get("authorization") !== `Bearer ${context.apiKey}`) {
        return protocol.error("missing or invalid API key", 401);
      }
      if (options.requestLogPath && request.method === "POST") await logRequest(options.requestLogPath, request.clone());
      // Faults strike generation requests only: health checks and /metrics answer as usual.
      const fault = request.method === "POST" ? context.faultSchedule.draw() : null;
      if (fault !== null) {
        const answer = await beforeAnswer(fault, request, exchange, protocol, context);
        if (answer !== undefined) return answer;
      }
      return route(request, context);
    },
  });
}

/**
 * A fault that strikes before the route answers: its answer (null when it took the connection),
 * or undefined when the route answers and the fault (if any) strikes in the stream.
 */
async function beforeAnswer(fault: FaultName, request: Request, exchange: Exchange, protocol: HttpMockProtocol, context: MockContext): Promise<Response | null | undefined> {
  const arrivalMs = epochMs();
  if (isStreamFault(fault)) {
    planStreamFault(request, { name: fault, arrivalMs, authorization: request.headers.get("authorization") ?? "" });
    if (fault === "slow-headers") await Bun.sleep(context.faultSchedule.delayMs);
    return undefined;
  }
  const logged = () =>
    context.truth.append({
      id: context.nextId(), protocol: context.protocol, arrival_ms: arrivalMs, prompt_tokens: 0, cached_tokens: 0, output_tokens: 0,
      token_ms: [], end_ms: epochMs(), status: "failed", fault, thinking_tokens: 0, tool_call_tokens: 0,
    });
  const status = /^http(\d{3})$/.exec(fault);
  if (status) {
    logged();
    return protocol.error(`simulated HTTP ${status[1]} (--faults ${fault})`, Number(status[1]));
  }
  switch (fault) {
    case "echo-auth":
      logged();
      return protocol.error(`simulated (--faults echo-auth): invalid credentials in Authorization: ${request.headers.get("authorization") ?? "(none)"}`, 401);
    case "not-stream":
      logged();
      return jsonResponse({ id: "cmpl-fault", object: "text_completion", model: context.model, choices: [{ index: 0, text: "a whole answer at once", finish_reason: "stop" }] });
    case "close":
      logged();
      exchange.close();
      return null;
    case "stall-headers":
      // No answer at all; the connection is left open until the client gives up on it.
      await new Promise((resolve) => request.signal.addEventListener("abort", resolve, { once: true }));
      logged();
      return null;
  }
  return undefined;
}


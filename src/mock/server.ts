import type { MockContext } from "./generation.ts";
import { openAiCompletionsProtocol } from "./protocols/openai-completions.ts";
import type { MockProtocol } from "./protocols/protocol.ts";
import type { TimingModel } from "./timing.ts";
import { TruthLog } from "./truth-log.ts";

export const MOCK_PROTOCOLS: Record<string, MockProtocol> = {
  vllm: openAiCompletionsProtocol,
};

export interface MockServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  protocol: string;
  model: string;
  timing: TimingModel;
  truthLogPath: string | null;
  maxOutputTokens: number | null;
  logPrompts: boolean;
}

export interface RunningMock {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export function startMockServer(options: MockServerOptions): RunningMock {
  const protocol = MOCK_PROTOCOLS[options.protocol];
  if (!protocol) throw new Error(`unknown mock protocol ${options.protocol}`);
  let ids = 0;
  const context: MockContext = {
    protocol: protocol.name,
    model: options.model,
    maxOutputTokens: options.maxOutputTokens,
    logPrompts: options.logPrompts,
    timing: options.timing,
    truth: new TruthLog(options.truthLogPath),
    nextId: () => ids++,
  };
  const server = Bun.serve({
    hostname: options.host,
    port: options.port,
    idleTimeout: 0, // a long prefill must not look like an idle connection
    async fetch(request) {
      const route = protocol.routes[`${request.method} ${new URL(request.url).pathname}`];
      if (!route) return Response.json({ error: `no route ${request.method} ${new URL(request.url).pathname}` }, { status: 404 });
      return route(request, context);
    },
  });
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${server.port}`,
    port: server.port!,
    stop: () => server.stop(true),
  };
}

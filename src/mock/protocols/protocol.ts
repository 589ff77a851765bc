import type { MockContext } from "../generation.ts";

export type MockRoute = (request: Request, context: MockContext) => Response | Promise<Response>;

/** A wire format over HTTP: its routes keyed by "METHOD /path", and how it answers errors. */
export interface HttpMockProtocol {
  kind: "http";
  name: string;
  routes: Record<string, MockRoute>;
  /** The protocol's own error answer (bad request, wrong API key, unknown route). */
  error(message: string, status: number): Response;
}

export interface GrpcMockServer {
  port: number;
  stop(): Promise<void>;
}

/** A wire format over gRPC: it runs its own server. */
export interface GrpcMockProtocol {
  kind: "grpc";
  name: string;
  /** Serves on host:port (port 0 picks a free one). */
  serve(host: string, port: number, context: MockContext): Promise<GrpcMockServer>;
}

export type MockProtocol = HttpMockProtocol | GrpcMockProtocol;

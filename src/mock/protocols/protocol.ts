import type { MockContext } from "../generation.ts";

export type MockRoute = (request: Request, context: MockContext) => Response | Promise<Response>;

/** One wire format the simulator speaks: its routes keyed by "METHOD /path". */
export interface MockProtocol {
  name: string;
  routes: Record<string, MockRoute>;
}

import { describe, expect, test } from "bun:test";
import { joinNegativeValues } from "../src/config/negative-values.ts";
import { hostPortOf, portHolders, somethingListens } from "../src/server/port-holder.ts";

describe("a negative value after a space", () => {
  test("is joined to its long option; other arguments are left alone", () => {
    expect(joinNegativeValues(["bun", "llmbench", "run", "--num-clients", "-1", "--seed", "-0.5", "--no-progress", "-h"])).toEqual([
      "bun", "llmbench", "run", "--num-clients=-1", "--seed=-0.5", "--no-progress", "-h",
    ]);
    expect(joinNegativeValues(["run", "--clients", "-4,8", "--prompt", "-x"])).toEqual(["run", "--clients=-4,8", "--prompt", "-x"]);
  });
});

describe("the port of a server URL and who holds it", () => {
  test("http, https, gRPC host:port and IPv6", () => {
    expect(hostPortOf("http://127.0.0.1:8000")).toEqual({ host: "127.0.0.1", port: 8000 });
    expect(hostPortOf("https://example.org")).toEqual({ host: "example.org", port: 443 });
    expect(hostPortOf("http://localhost")).toEqual({ host: "localhost", port: 80 });
    expect(hostPortOf("127.0.0.1:23333")).toEqual({ host: "127.0.0.1", port: 23333 });
    expect(hostPortOf("[::1]:9000")).toEqual({ host: "::1", port: 9000 });
    expect(hostPortOf("http://[::1]:9001")).toEqual({ host: "::1", port: 9001 });
  });

  test("a listener of this process is found listening and named by /proc as this process", async () => {
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      expect(await somethingListens("127.0.0.1", listener.port)).toBe(true);
      expect(portHolders(listener.port).map((holder) => holder.pid)).toContain(process.pid);
    } finally {
      listener.stop(true);
    }
    expect(await somethingListens("127.0.0.1", listener.port)).toBe(false);
    expect(portHolders(listener.port)).toEqual([]);
  });
});

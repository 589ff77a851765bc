/**
 * A TCP port of `host` that nothing listens on right now: the system picks one, and it is
 * released at once for the server about to be launched on it.
 */
export function freePort(host = "127.0.0.1"): number {
  const listener = Bun.listen({ hostname: host, port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

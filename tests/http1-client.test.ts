import { expect, test } from "bun:test";
import { join } from "node:path";
import { describeNetworkError, getText } from "../src/backends/transport/http.ts";
import { tempDir } from "./helpers/cli.ts";

/** The lean HTTP/1.1 client over TLS (Bun.connect tls): a self-signed certificate is refused unless --insecure. */
test("https: a self-signed certificate is refused, with why; --insecure accepts it and keeps the connection alive", async () => {
  if (Bun.which("openssl") === null && !process.env.CI) {
    console.warn("WARNING: openssl not found (apt-get install openssl): the TLS test is skipped");
    return;
  }
  const dir = tempDir();
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  const made = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"], { stderr: "ignore" });
  expect(made.exitCode).toBe(0);
  let served = 0;
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", tls: { cert: Bun.file(cert), key: Bun.file(key) }, fetch: () => new Response(`hello ${++served}`) });
  try {
    const url = new URL(`https://127.0.0.1:${server.port}/health`);
    const signal = AbortSignal.timeout(20_000);
    expect(await getText(url, signal, {}, true)).toEqual({ status: 200, body: "hello 1" });
    expect(await getText(url, signal, {}, true)).toEqual({ status: 200, body: "hello 2" });
    const refused = await getText(url, signal, {}, false).then(() => null, (error) => describeNetworkError(error));
    expect(refused).toMatch(/^TLS: .*certificate.*--insecure/);
    expect(served).toBe(2);
  } finally {
    server.stop(true);
  }
}, 30_000);

/** A server whose chunk sizes are wrong: the reason is the same for every request, so the failure summary groups them. */
test("a malformed chunked body fails with one reason, whatever the bytes", async () => {
  const bodies = ["5\r\nhello\r\nzz\r\n", '4\r\nabcd\r\n"id":"cmpl-17"\r\n'];
  let served = 0;
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket) {
        socket.write(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n${bodies[served++ % bodies.length]}`);
        socket.end();
      },
    },
  });
  try {
    const url = new URL(`http://127.0.0.1:${server.port}/health`);
    const reasons: string[] = [];
    for (let i = 0; i < 2; i++) reasons.push(await getText(url, AbortSignal.timeout(20_000)).then(() => "answered", (error) => describeNetworkError(error)));
    expect(reasons[0]).toMatch(/malformed chunked body/);
    expect(reasons[1]).toBe(reasons[0]!);
  } finally {
    server.stop(true);
  }
}, 30_000);

/**
 * Chunked framing cut anywhere: size lines of bare hex (read from the bytes), with extensions,
 * leading zeros and upper case (read as text), a size line, a CRLF or a UTF-8 character cut
 * between two writes, and a trailer. Every cut of the same body gives the same text, on one
 * kept-alive connection.
 */
test("a chunked body cut at random places reads back whole, whatever the size lines look like", async () => {
  const pieces = ["data: {\"text\":\" tok\"}\n\n", "data: ünï → 🎉\n\n", "x".repeat(300), "", "a\r\nb", "é"];
  const sizeLine = (bytes: number, k: number) => [bytes.toString(16), bytes.toString(16).toUpperCase(), `000${bytes.toString(16)}`, `${bytes.toString(16)};name=value`][k % 4]!;
  const body = pieces.filter((p) => p !== "").map((p, k) => `${sizeLine(Buffer.byteLength(p), k)}\r\n${p}\r\n`).join("") + "0\r\nx-trailer: 1\r\n\r\n";
  const wire = new TextEncoder().encode(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${body}`);
  let seed = 1;
  const random = () => ((seed = (seed * 48271) % 0x7fffffff) / 0x7fffffff);
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      async data(socket) {
        // written in pieces of 1 to 40 bytes, each its own read at the client (a pause between)
        for (let at = 0; at < wire.length; ) {
          const size = 1 + Math.floor(random() * 40);
          socket.write(wire.subarray(at, at + size));
          at += size;
          await Bun.sleep(1);
        }
      },
    },
  });
  try {
    const url = new URL(`http://127.0.0.1:${server.port}/stream`);
    for (let round = 0; round < 6; round++) {
      const answer = await getText(url, AbortSignal.timeout(20_000));
      expect(answer).toEqual({ status: 200, body: pieces.join("") });
    }
  } finally {
    server.stop(true);
  }
}, 60_000);

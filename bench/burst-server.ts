/**
 * The cheapest OpenAI completions server we can write, for measuring how much load the client can
 * drive (bench/workers.ts): every answer is one write of a response built once per prompt length
 * (head, chunked SSE events in vLLM's format with usage in each, [DONE]), with only the request id
 * patched in. On a 2-core machine the server shares the cores with the clients, so the less it
 * costs per request, the more of the machine is left to measure the clients with.
 *
 *   bun bench/burst-server.ts --tokens 16 [--port 0]
 * Prints `listening on http://127.0.0.1:PORT`; at SIGTERM prints `answered N` (what the client's
 * completed count must equal) and exits.
 */
import type { Socket } from "bun";

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ""), process.argv[i + 1]!);
const tokens = Number(args.get("tokens") ?? 16);
const ID_WIDTH = 10;
const ID_MARK = "#".repeat(ID_WIDTH);

interface Answer {
  bytes: Buffer;
  /** Where each event's id digits go. */
  idAt: number[];
}
const answers = new Map<number, Answer>();
let answered = 0;

function chunk(payload: string): string {
  const body = `data: ${payload}\n\n`;
  return `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n`;
}

function answerFor(promptTokens: number): Answer {
  let answer = answers.get(promptTokens);
  if (answer !== undefined) return answer;
  const usage = (k: number) => `{"prompt_tokens":${promptTokens},"total_tokens":${promptTokens + k},"completion_tokens":${k}}`;
  let text = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: keep-alive\r\ntransfer-encoding: chunked\r\n\r\n";
  for (let k = 1; k <= tokens; k++) {
    text += chunk(
      `{"id":"cmpl-${ID_MARK}","object":"text_completion","created":1764633600,"model":"m","choices":[{"index":0,"text":" tok","logprobs":null,` +
        `"finish_reason":${k === tokens ? '"length"' : "null"},"stop_reason":null}],"usage":${usage(k)}}`,
    );
  }
  text += chunk(`{"id":"cmpl-${ID_MARK}","object":"text_completion","created":1764633600,"model":"m","choices":[],"usage":${usage(tokens)}}`) + chunk("[DONE]") + "0\r\n\r\n";
  const idAt: number[] = [];
  for (let at = text.indexOf(ID_MARK); at !== -1; at = text.indexOf(ID_MARK, at + ID_WIDTH)) idAt.push(at);
  answer = { bytes: Buffer.from(text, "latin1"), idAt };
  answers.set(promptTokens, answer);
  return answer;
}

let nextId = 0;
function answer(socket: Socket<Conn>, promptTokens: number): void {
  const { bytes, idAt } = answerFor(promptTokens);
  const out = Buffer.allocUnsafe(bytes.length);
  bytes.copy(out);
  const id = String(nextId++).padStart(ID_WIDTH, "0");
  for (const at of idAt) out.write(id, at, ID_WIDTH, "latin1");
  send(socket, out);
  answered++;
}

interface Conn {
  head: string;
  pending: Buffer[];
}

function send(socket: Socket<Conn>, bytes: Buffer): void {
  const conn = socket.data;
  if (conn.pending.length > 0) {
    conn.pending.push(bytes);
    return;
  }
  const wrote = socket.write(bytes);
  if (wrote < bytes.length) conn.pending.push(bytes.subarray(Math.max(0, wrote)));
}

function handle(socket: Socket<Conn>, text: string): void {
  const conn = socket.data;
  let buffer = conn.head.length === 0 ? text : conn.head + text;
  for (;;) {
    const headEnd = buffer.indexOf("\r\n\r\n");
    if (headEnd === -1) break;
    const head = buffer.slice(0, headEnd).toLowerCase();
    const lengthAt = head.indexOf("content-length:");
    const length = lengthAt === -1 ? 0 : parseInt(head.slice(lengthAt + 15), 10);
    if (buffer.length < headEnd + 4 + length) break; // bodies are ASCII JSON here
    buffer = buffer.slice(headEnd + 4 + length);
    if (head.startsWith("post ") && head.includes("/completions ")) answer(socket, Math.max(1, Math.round(length / 4)));
    else {
      const path = head.slice(head.indexOf(" ") + 1, head.indexOf(" ", head.indexOf(" ") + 1));
      const found = path === "/health" || path === "/v1/models";
      const body = path === "/v1/models" ? '{"object":"list","data":[{"id":"m","object":"model"}]}' : found ? "" : "not found";
      send(socket, Buffer.from(`HTTP/1.1 ${found ? "200 OK" : "404 Not Found"}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`, "latin1"));
    }
  }
  conn.head = buffer;
}

const server = Bun.listen<Conn>({
  hostname: "127.0.0.1",
  port: Number(args.get("port") ?? 0),
  socket: {
    open(socket) {
      socket.data = { head: "", pending: [] };
    },
    data(socket, data) {
      handle(socket, data.toString("latin1"));
    },
    drain(socket) {
      const conn = socket.data;
      const waiting = conn.pending;
      conn.pending = [];
      for (const bytes of waiting) send(socket, bytes);
    },
    error() {},
  },
});

process.on("SIGTERM", () => {
  console.log(`answered ${answered}`);
  server.stop(true);
  process.exit(0);
});

console.log(`listening on http://127.0.0.1:${server.port}`);

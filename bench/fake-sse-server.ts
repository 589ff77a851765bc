/**
 * A minimal fake OpenAI completions server for client benchmarks: as little work per token as a
 * server can do, so that what is measured is the client. Raw HTTP/1.1 on Bun.listen, keep-alive,
 * chunked SSE in vLLM's format (usage in every chunk, as llmbench asks for), one token to every
 * open stream on each tick of a shared clock. Truth-logged: every stream's write times.
 *
 *   bun bench/fake-sse-server.ts --itl-ms 5 --tokens 256 --truth truth.jsonl [--backlog 1024] [--accept-pause-ms 0] [--burst 1]
 * `--burst 1` answers each request at once, every token event in one write (a server at almost no
 * cost per token: what is left to measure is the client's work per request and per event).
 *
 * Prints `listening on http://127.0.0.1:PORT` when ready. A line `pid N` on stdin names the client:
 * its CPU time (the sum of /proc/N/task/[*]/schedstat, in ns: every thread, not 10 ms ticks) is
 * sampled just before the first token is written, on every tick after it, and every millisecond
 * while no stream is open (the server has written all it was asked for, the client may still be
 * reading), until the client is gone. A line `report` on stdin prints
 * `cpu <tokens> <[[epoch ms, cpu ns, user ticks, system ticks], …]>`: the bench reads the client's CPU at the moment its
 * last token arrived (from the records) off this series, so that no start-up or end-of-run work
 * (summary, report) counts.
 */
import type { Socket } from "bun";
import { closeSync, openSync, readFileSync, readdirSync, readlinkSync, writeSync } from "node:fs";
import { dlopen, FFIType } from "bun:ffi";

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ""), process.argv[i + 1]!);
const itlMs = Number(args.get("itl-ms") ?? 5);
const tokens = Number(args.get("tokens") ?? 256);
const truthPath = args.get("truth") ?? null;
const backlog = args.has("backlog") ? Number(args.get("backlog")) : null;
const burst = args.get("burst") === "1";

interface Stream {
  id: number;
  socket: Socket<Conn>;
  arrivalMs: number;
  written: number;
  promptTokens: number;
  times: Float64Array;
}
interface Conn {
  buffer: string;
  pending: string;
  stream: Stream | null;
}

const now = () => performance.timeOrigin + performance.now();
let nextId = 0;
const open = new Set<Stream>();
const truthFd = truthPath === null ? null : openSync(truthPath, "w");
let truthLines: string[] = [];
let clientPid: number | null = null;
let tokensWritten = 0;
/** The client's CPU time: [epoch ms, ns, user ticks, system ticks] from just before the first token; empty before it. */
let cpuSeries: Array<[number, number, number, number]> = [];
let clientGone = false;
let idleSampler: ReturnType<typeof setInterval> | null = null;

/** Each client thread's run time (ns) when last seen: a thread that ended keeps its last figure, so that the sum never drops. */
let threadNs = new Map<string, number>();

/** The client's CPU time so far, every thread's (ns); null once it is gone. */
function clientCpuNs(): number | null {
  if (clientPid === null) return null;
  try {
    for (const task of readdirSync(`/proc/${clientPid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${clientPid}/task/${task}/schedstat`, "latin1");
        threadNs.set(task, Number(stat.slice(0, stat.indexOf(" "))));
      } catch {
        // a thread that ended between the listing and the read
      }
    }
  } catch {
    return null;
  }
  let ns = 0;
  for (const value of threadNs.values()) ns += value;
  return ns;
}

/** The client's user and system time in 10 ms ticks (/proc/N/stat), for the share of the kernel in it. */
function clientTicks(): [number, number] {
  try {
    const stat = readFileSync(`/proc/${clientPid}/stat`, "latin1");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return [Number(fields[11]), Number(fields[12])];
  } catch {
    return [NaN, NaN];
  }
}

function sampleCpu(): void {
  if (clientPid === null || clientGone) return;
  const ns = clientCpuNs();
  if (ns === null) {
    clientGone = true;
    stopIdleSampler();
    return;
  }
  cpuSeries.push([now(), ns, ...clientTicks()]);
}

function stopIdleSampler(): void {
  if (idleSampler !== null) clearInterval(idleSampler);
  idleSampler = null;
}

function send(socket: Socket<Conn>, text: string): void {
  const conn = socket.data;
  if (conn.pending.length > 0) {
    conn.pending += text;
    return;
  }
  const wrote = socket.write(text);
  if (wrote < text.length) conn.pending = text.slice(Math.max(0, wrote));
}

function chunk(payload: string): string {
  const body = `data: ${payload}\n\n`;
  return `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n`;
}

function usage(stream: Stream, completion: number): string {
  return `{"prompt_tokens":${stream.promptTokens},"total_tokens":${stream.promptTokens + completion},"completion_tokens":${completion}}`;
}

function tick(): void {
  if (open.size > 0) sampleCpu(); // just before the first token, and on every tick with tokens to write
  for (const stream of open) {
    const k = ++stream.written;
    const last = k === tokens;
    const at = now();
    stream.times[k - 1] = at;
    let text =
      `{"id":"cmpl-${stream.id}","object":"text_completion","created":1764633600,"model":"m","choices":[{"index":0,"text":" tok","logprobs":null,` +
      `"finish_reason":${last ? '"length"' : "null"},"stop_reason":null}],"usage":${usage(stream, k)}}`;
    let out = chunk(text);
    if (last) {
      text = `{"id":"cmpl-${stream.id}","object":"text_completion","created":1764633600,"model":"m","choices":[],"usage":${usage(stream, k)}}`;
      out += chunk(text) + chunk("[DONE]") + "0\r\n\r\n";
    }
    send(stream.socket, out);
    tokensWritten++;
    if (last) finishStream(stream);
  }
  if (open.size === 0 && cpuSeries.length > 0 && idleSampler === null && !clientGone) idleSampler = setInterval(sampleCpu, 1);
}

const burstBodies = new Map<number, string>();
/** --burst: the whole answer in one write; its body is built once per prompt length (the id, of fixed width, put in per request). */
function answerAtOnce(stream: Stream): void {
  let body = burstBodies.get(stream.promptTokens);
  if (body === undefined) {
    const events: string[] = [];
    for (let k = 1; k <= tokens; k++) {
      events.push(chunk(`{"id":"cmpl-@@@@@@@@","object":"text_completion","created":1764633600,"model":"m","choices":[{"index":0,"text":" tok","logprobs":null,"finish_reason":${k === tokens ? '"length"' : "null"},"stop_reason":null}],"usage":${usage(stream, k)}}`));
    }
    events.push(chunk(`{"id":"cmpl-@@@@@@@@","object":"text_completion","created":1764633600,"model":"m","choices":[],"usage":${usage(stream, tokens)}}`), chunk("[DONE]"), "0\r\n\r\n");
    body = events.join("");
    burstBodies.set(stream.promptTokens, body);
  }
  const at = now();
  stream.times.fill(at);
  stream.written = tokens;
  send(stream.socket, body.replaceAll("@@@@@@@@", String(stream.id).padStart(8, "0"))); // same length: the chunk sizes hold
  tokensWritten += tokens;
  finishStream(stream);
}

function finishStream(stream: Stream): void {
  open.delete(stream);
  stream.socket.data.stream = null;
  if (truthFd !== null) {
    truthLines.push(JSON.stringify({ id: `cmpl-${stream.id}`, arrival_ms: stream.arrivalMs, token_ms: Array.from(stream.times) }));
    if (truthLines.length >= 256) flushTruth();
  }
}

function flushTruth(): void {
  if (truthFd !== null && truthLines.length > 0) writeSync(truthFd, truthLines.join("\n") + "\n");
  truthLines = [];
}

function reportCpu(): void {
  sampleCpu();
  console.log(`cpu ${tokensWritten} ${JSON.stringify(cpuSeries)}`);
}

// A shared clock, corrected for drift: every open stream gets its token on the same tick.
const startedAt = performance.now();
let ticks = 0;
function schedule(): void {
  ticks++;
  const due = startedAt + ticks * itlMs;
  setTimeout(() => {
    tick();
    schedule();
  }, Math.max(0, due - performance.now()));
}
schedule();

function handle(socket: Socket<Conn>): void {
  const conn = socket.data;
  for (;;) {
    const headEnd = conn.buffer.indexOf("\r\n\r\n");
    if (headEnd === -1) return;
    const head = conn.buffer.slice(0, headEnd);
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    if (conn.buffer.length < headEnd + 4 + length) return; // bodies are ASCII JSON here
    const body = conn.buffer.slice(headEnd + 4, headEnd + 4 + length);
    conn.buffer = conn.buffer.slice(headEnd + 4 + length);
    const [method, path] = head.split(" ", 2);
    if (method === "POST" && path!.endsWith("/completions")) {
      const promptTokens = Math.max(1, Math.round(body.length / 4));
      const stream: Stream = { id: nextId++, socket, arrivalMs: now(), written: 0, promptTokens, times: new Float64Array(tokens) };
      conn.stream = stream;
      send(socket, "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: keep-alive\r\ntransfer-encoding: chunked\r\n\r\n");
      if (burst) {
        answerAtOnce(stream);
        continue;
      }
      open.add(stream);
      stopIdleSampler();
    } else {
      const text = path === "/health" ? "" : path === "/v1/models" ? '{"object":"list","data":[{"id":"m","object":"model"}]}' : "not found";
      const status = path === "/health" || path === "/v1/models" ? "200 OK" : "404 Not Found";
      send(socket, `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${text.length}\r\n\r\n${text}`);
    }
  }
}

const server = Bun.listen<Conn>({
  hostname: "127.0.0.1",
  port: Number(args.get("port") ?? 0),
  socket: {
    open(socket) {
      socket.data = { buffer: "", pending: "", stream: null };
    },
    data(socket, data) {
      socket.data.buffer += data.toString("latin1");
      handle(socket);
    },
    drain(socket) {
      const conn = socket.data;
      if (conn.pending.length === 0) return;
      const text = conn.pending;
      conn.pending = "";
      send(socket, text);
    },
    close(socket) {
      const stream = socket.data?.stream;
      if (stream) open.delete(stream);
    },
    error() {},
  },
});

if (backlog !== null) setBacklog(server.port, backlog);

/**
 * Bun.listen (and node:net, which ignores its `backlog` option) listens with a backlog of 512.
 * Linux lets listen() be called again on a listening socket to change it: find the socket's fd
 * by its inode and call libc's listen through bun:ffi.
 */
function setBacklog(port: number, size: number): void {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, "0")} `;
  const line = readFileSync("/proc/net/tcp", "utf8").split("\n").find((l) => l.split(/\s+/)[2]?.startsWith("0100007F" + hexPort.trim()) && / 0A /.test(l));
  const inode = line?.trim().split(/\s+/)[9];
  const fd = readdirSync("/proc/self/fd").map(Number).find((n) => {
    try {
      return readlinkSync(`/proc/self/fd/${n}`) === `socket:[${inode}]`;
    } catch {
      return false;
    }
  });
  if (inode === undefined || fd === undefined) throw new Error(`cannot find the listening socket of port ${port}`);
  const libc = dlopen("libc.so.6", { listen: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
  if (libc.symbols.listen(fd, size) !== 0) throw new Error("listen() failed");
}

(async () => {
  const decoder = new TextDecoder();
  for await (const data of Bun.stdin.stream()) {
    for (const line of decoder.decode(data).split("\n")) {
      const pid = /^pid (\d+)/.exec(line)?.[1];
      if (pid) {
        clientPid = Number(pid);
        cpuSeries = [];
        threadNs = new Map();
        clientGone = false;
        tokensWritten = 0;
      } else if (line === "report") reportCpu();
    }
  }
})();

process.on("SIGTERM", () => {
  flushTruth();
  if (truthFd !== null) closeSync(truthFd);
  server.stop(true);
  process.exit(0);
});

console.log(`listening on http://127.0.0.1:${server.port}`);

import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { connect } from "node:net";
import { UsageError } from "../config/usage-error.ts";

/** Host and port of a server URL (`http://h:p`, `https://h`) or of a gRPC `host:port` target. */
export function hostPortOf(url: string): { host: string; port: number } | null {
  try {
    if (url.includes("://")) {
      const parsed = new URL(url);
      const port = parsed.port ? Number(parsed.port) : parsed.protocol === "https:" ? 443 : 80;
      return { host: parsed.hostname.replace(/^\[|\]$/g, ""), port };
    }
    const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(url.trim());
    return match ? { host: match[1]!, port: Number(match[2]) } : null;
  } catch {
    return null;
  }
}

/** Whether something accepts TCP connections at host:port (answers within `timeoutMs`). */
export function somethingListens(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (listening: boolean) => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on("error", () => {});
      socket.destroy();
      resolve(listening);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export interface PortHolder {
  pid: number;
  command: string;
}

/**
 * The processes listening on `port`, where /proc tells: the socket's inode from /proc/net/tcp and
 * tcp6 (state 0A, LISTEN), then the process whose /proc/PID/fd links to `socket:[inode]`. Empty
 * without /proc, or when the holder belongs to another user (its fds cannot be read).
 */
export function portHolders(port: number): PortHolder[] {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== "0A") continue;
      const localPort = parseInt(fields[1]!.split(":")[1] ?? "", 16);
      if (localPort === port && fields[9] !== "0") inodes.add(fields[9]!);
    }
  }
  if (inodes.size === 0) return [];
  const holders: PortHolder[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry));
  } catch {
    return [];
  }
  for (const pid of entries) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    const holds = fds.some((fd) => {
      try {
        const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
        return link.startsWith("socket:[") && inodes.has(link.slice(8, -1));
      } catch {
        return false;
      }
    });
    if (holds) holders.push({ pid: Number(pid), command: commandOf(pid) });
  }
  return holders;
}

function commandOf(pid: string): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    if (argv.length > 0) return argv.join(" ").slice(0, 200);
  } catch {}
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "?";
  }
}

/**
 * Before a server is launched on `url`: nothing may answer there already, or the readiness check
 * and the requests would reach that other server instead of the launched one. A UsageError (exit 2)
 * naming the port and, where /proc tells, the process holding it.
 */
export async function assertPortFree(url: string, field: string): Promise<void> {
  const address = hostPortOf(url);
  if (!address) return;
  if (!(await somethingListens(address.host, address.port))) return;
  const holders = portHolders(address.port);
  const who =
    holders.length > 0
      ? `: held by ${holders.map((holder) => `pid ${holder.pid} (${holder.command})`).join(", ")}`
      : " (by a process this user cannot see)";
  throw new UsageError(
    `${field} ${url}: port ${address.port} is already in use${who}. The server llmbench launches would fail to listen there and the other one would be measured: stop it or choose another port`,
  );
}

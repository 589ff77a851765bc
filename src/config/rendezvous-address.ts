/** Where the shards of a point meet (--rendezvous host:port): shard 0 listens there. */
export interface RendezvousAddress {
  host: string;
  port: number;
}

/** "host:port" (an IPv6 host in brackets), as given to --rendezvous. */
export function parseRendezvousAddress(text: string): RendezvousAddress | string {
  const match = /^\s*(?:\[([0-9a-fA-F:.]+)\]|([^\s:\[\]]+)):(\d{1,5})\s*$/.exec(text);
  if (!match) return `expected host:port (e.g. llmbench-0.llmbench:7700 or 127.0.0.1:7700), got "${text}"`;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return `port ${port} is not in 1 … 65535`;
  return { host: match[1] ?? match[2]!, port };
}

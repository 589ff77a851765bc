/**
 * The shard model: one point split into N shards that together are the single-process workload.
 * Closed loop: shard K runs the global users u with u mod N = K (same ids, ramp-up times and prompt
 * sequences). Rate mode: every shard draws the same global arrival schedule and sends only the
 * requests j with j mod N = K. Budgets and caps are split so that the shards' shares add up to the
 * configured totals. All of this is decided before the clock starts.
 */

export interface Shard {
  /** 0 … count − 1. */
  index: number;
  count: number;
}

export function shardLabel(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** Shard K's share of a total split over N: ⌊total / N⌋, plus one for the first total mod N shards. Shares sum to the total. */
export function shareOf(total: number, shard: Shard): number {
  return Math.floor(total / shard.count) + (shard.index < total % shard.count ? 1 : 0);
}

/** The global user ids of shard K among `clients` users: K, K + N, K + 2N, … */
export function usersOfShard(clients: number, shard: Shard): number[] {
  const users: number[] = [];
  for (let user = shard.index; user < clients; user += shard.count) users.push(user);
  return users;
}

/** Whether request j of the global rate-mode schedule is shard K's to send. */
export function ownsRequest(request: number, shard: Shard): boolean {
  return request % shard.count === shard.index;
}

/** The shard's part of a closed-loop point's budget: its share of the request budget, split like the users. */
export function closedLoopShare(clients: number, numRequests: number | null, shard: Shard): { users: number[]; maxRequests: number | null } {
  return { users: usersOfShard(clients, shard), maxRequests: numRequests === null ? null : shareOf(numRequests, shard) };
}

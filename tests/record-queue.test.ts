import { describe, expect, test } from "bun:test";
import { RecordQueue } from "../src/runner/record-queue.ts";

describe("records are handled a turn of the event loop apart (src/runner/record-queue.ts)", () => {
  test("in order, none where it was pushed, every one by drained()", async () => {
    const handled: number[] = [];
    const queue = new RecordQueue<number>((n) => handled.push(n));
    for (let i = 0; i < 5; i++) queue.push(i);
    expect(handled).toEqual([]);
    await queue.drained();
    expect(handled).toEqual([0, 1, 2, 3, 4]);
    queue.push(5); // a queue that ran dry starts again
    await queue.drained();
    expect(handled).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test("work due meanwhile (a socket read, a timer already due) runs between two records", async () => {
    const order: string[] = [];
    const queue = new RecordQueue<number>((n) => {
      order.push(`record ${n}`);
      if (n === 0) setImmediate(() => order.push("read"));
    });
    queue.push(0);
    queue.push(1);
    queue.push(2);
    await queue.drained();
    expect(order).toEqual(["record 0", "read", "record 1", "record 2"]);
  });

  test("a backlog of thousands drains in far fewer turns than records", async () => {
    let turns = 0;
    let counting = true;
    const tick = () => {
      turns++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    let handled = 0;
    const queue = new RecordQueue<number>(() => handled++);
    for (let i = 0; i < 10_000; i++) queue.push(i);
    await queue.drained();
    counting = false;
    expect(handled).toBe(10_000);
    expect(turns).toBeLessThan(2_000);
  });

  test("what the handler throws (a full disk) reaches drained() and the next push", async () => {
    const queue = new RecordQueue<number>((n) => {
      if (n === 1) throw new Error("ENOSPC");
    });
    queue.push(0);
    queue.push(1);
    queue.push(2);
    await expect(queue.drained()).rejects.toThrow("ENOSPC");
    expect(() => queue.push(3)).toThrow("ENOSPC");
  });
});

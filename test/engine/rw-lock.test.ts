import { describe, expect, it } from "vitest";
import { RwLock } from "../../src/engine/rw-lock.ts";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("RwLock", () => {
  it("never runs shared work while exclusive work runs, whatever the timing", async () => {
    const lock = new RwLock();
    let exclusive = 0;
    let shared = 0;
    const overlaps: string[] = [];
    const work: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      // Vary how many microtasks and macrotasks pass before each caller arrives.
      const delay = async () => {
        for (let m = 0; m < i % 7; m++) await Promise.resolve();
        if (i % 3 === 0) await tick();
      };
      if (i % 4 === 0) {
        work.push(
          delay().then(() =>
            lock.exclusive(async () => {
              exclusive++;
              if (shared > 0 || exclusive > 1) overlaps.push(`exclusive ${i}`);
              await tick();
              exclusive--;
            }),
          ),
        );
      } else {
        work.push(
          delay().then(() =>
            lock.shared(async () => {
              shared++;
              if (exclusive > 0) overlaps.push(`shared ${i}`);
              await Promise.resolve();
              shared--;
            }),
          ),
        );
      }
    }
    await Promise.all(work);
    expect(overlaps).toEqual([]);
  });

  it("lets a new exclusive caller wait for readers that were just woken", async () => {
    // The gap between waking a reader and its resumption is a few microtasks: try each depth.
    for (let depth = 0; depth < 8; depth++) {
      const lock = new RwLock();
      let exclusiveRunning = false;
      let sawOverlap = false;
      let release!: () => void;
      const first = lock.exclusive(() => {
        exclusiveRunning = true;
        return new Promise<void>((resolve) => {
          release = () => {
            exclusiveRunning = false;
            resolve();
          };
        });
      });
      await Promise.resolve();
      const reader = lock.shared(async () => {
        if (exclusiveRunning) sawOverlap = true;
        await tick();
        if (exclusiveRunning) sawOverlap = true;
      });
      release();
      for (let m = 0; m < depth; m++) await Promise.resolve();
      const second = lock.exclusive(async () => {
        exclusiveRunning = true;
        await tick();
        exclusiveRunning = false;
      });
      await Promise.all([first, reader, second]);
      expect(sawOverlap, `at microtask depth ${depth}`).toBe(false);
    }
  });
});

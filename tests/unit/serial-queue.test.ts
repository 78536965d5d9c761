// Storage writes in order: each task starts after the one before has settled, and a failure stops nothing after it.
import { describe, expect, it } from 'vitest';
import { SerialQueue } from '../../src/shared/serial-queue';

const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SerialQueue', () => {
  it('runs tasks one at a time in the order queued, even when an earlier one is slower', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    const task = (name: string, ms: number) => async () => {
      log.push(`start ${name}`);
      await later(ms);
      log.push(`end ${name}`);
      return name;
    };
    const results = await Promise.all([q.run(task('a', 30)), q.run(task('b', 1)), q.run(task('c', 10))]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('rejects only the failed task, and idle() waits for everything queued', async () => {
    const q = new SerialQueue();
    let done = false;
    const failed = q.run(async () => {
      throw new Error('disk full');
    });
    const next = q.run(async () => {
      await later(5);
      done = true;
      return 1;
    });
    await expect(failed).rejects.toThrow('disk full');
    await q.idle();
    expect(done).toBe(true);
    await expect(next).resolves.toBe(1);
  });
});

import type { Outbox, TaskLease } from "./outbox";

export interface LeaseKeeperOptions {
  outbox: Outbox;
  lease: TaskLease;
  leaseMs: number;
  now: () => number;
  /** the lease went to another process: the task is theirs now */
  onLost: () => void;
  /** a renewal that could not reach the store; the next one tries again */
  onError: (error: unknown) => void;
}

/**
 * The heartbeat of one running task: renews its lease every third of `leaseMs`, so a lease can be
 * short (a dead holder's work is taken over soon) and a live holder keeps it however long the task
 * runs. Renewals go one at a time, and only from the lease we hold: once another process has taken
 * the task, the next renewal finds that and reports it instead of taking it back.
 */
export class LeaseKeeper {
  private current: TaskLease | null;
  private renewing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: LeaseKeeperOptions) {
    this.current = options.lease;
    this.timer = setInterval(() => this.beat(), Math.max(50, Math.floor(options.leaseMs / 3)));
    this.timer.unref();
  }

  /** Stops renewing once the renewal under way has answered; the lease as it stands, null when lost. */
  async stop(): Promise<TaskLease | null> {
    clearInterval(this.timer);
    await this.renewing;
    return this.current;
  }

  private beat(): void {
    const { outbox, leaseMs, now, onLost, onError } = this.options;
    this.renewing = this.renewing.then(async () => {
      const held = this.current;
      if (held === null) return;
      try {
        this.current = await outbox.renew(held, now() + leaseMs);
        if (this.current === null) {
          clearInterval(this.timer);
          onLost();
        }
      } catch (error) {
        onError(error);
      }
    });
  }
}

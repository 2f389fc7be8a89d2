import cliProgress from 'cli-progress';
import type { CliIo } from './io';

/** Counts shown while a bulk job runs. */
export interface Tally {
  sent: number;
  skipped: number;
  failed: number;
}

/** A progress display: `update` after each item, `stop` once at the end. */
export interface Progress {
  update(done: number, tally: Tally): void;
  stop(): void;
}

/**
 * A cli-progress bar on a terminal (on stderr, so stdout stays clean for results); otherwise one plain
 * line about every 5% and at the end, which reads well in a CI log or a cron mail.
 *
 * @example
 * ```ts
 * const progress = startProgress(io, 'invite', rows.length);
 * progress.update(1, { sent: 1, skipped: 0, failed: 0 });
 * progress.stop();
 * ```
 */
export function startProgress(io: CliIo, label: string, total: number): Progress {
  const stream = io.progressStream;
  if (stream !== undefined) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} {bar} {value}/{total} | sent {sent} skipped {skipped} failed {failed} | ETA {eta_formatted}`,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { sent: 0, skipped: 0, failed: 0 });
    return {
      update: (done, tally) => bar.update(done, { ...tally }),
      stop: () => bar.stop(),
    };
  }
  const step = Math.max(1, Math.ceil(total / 20));
  let printed = 0;
  let last: { done: number; tally: Tally } | undefined;
  const print = (done: number, tally: Tally) => {
    printed = done;
    io.stderr(
      `${label}: ${done}/${total} (sent ${tally.sent}, skipped ${tally.skipped}, failed ${tally.failed})\n`,
    );
  };
  return {
    update(done, tally) {
      last = { done, tally: { ...tally } };
      if (done - printed >= step || done === total) print(done, tally);
    },
    stop() {
      if (last !== undefined && printed !== last.done) print(last.done, last.tally);
    },
  };
}

/**
 * Progress while sending: a bar redrawn in place on a terminal, plain lines at most every few
 * seconds otherwise (CI logs). Output goes through the writer the command line gives.
 */

export interface Progress {
  /** A step starts with `total` rows to go through. */
  start(label: string, total: number): void;
  /** `done` more rows settled (accepted or refused). */
  advance(done: number): void;
  /** The step ended; `summary` is its one-line result. */
  finish(summary: string): void;
}

export const silentProgress: Progress = { start: () => undefined, advance: () => undefined, finish: () => undefined };

/** The same progress, its labels and summaries passed through `clean` (the plan's names are data too). */
export function cleanProgress(p: Progress, clean: (text: string) => string): Progress {
  return { start: (label, total) => p.start(clean(label), total), advance: (n) => p.advance(n), finish: (summary) => p.finish(clean(summary)) };
}

const width = 24;

function bar(done: number, total: number): string {
  const share = total === 0 ? 1 : Math.min(1, done / total);
  const full = Math.round(share * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${String(Math.floor(share * 100)).padStart(3)}%`;
}

export function terminalProgress(write: (text: string) => void, now: () => number = () => performance.now()): Progress {
  let label = '';
  let total = 0;
  let done = 0;
  let drawn = 0;
  const draw = () => write(`\r\x1b[2K  ${label} ${bar(done, total)} ${done}/${total}`);
  return {
    start(l, t) {
      label = l;
      total = t;
      done = 0;
      draw();
    },
    advance(n) {
      done += n;
      // Redraw at most 10 times a second: drawing is not free at 20,000 rows/s.
      if (now() - drawn > 100) {
        drawn = now();
        draw();
      }
    },
    finish(summary) {
      write(`\r\x1b[2K  ${summary}\n`);
    },
  };
}

export function lineProgress(write: (text: string) => void, now: () => number = () => performance.now(), everyMs = 5000): Progress {
  let label = '';
  let total = 0;
  let done = 0;
  let last = 0;
  return {
    start(l, t) {
      label = l;
      total = t;
      done = 0;
      last = now();
    },
    advance(n) {
      done += n;
      if (now() - last >= everyMs) {
        last = now();
        write(`  ${label}: ${done}/${total} rows\n`);
      }
    },
    finish(summary) {
      write(`  ${summary}\n`);
    },
  };
}

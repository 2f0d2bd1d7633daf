import cliProgress from 'cli-progress';

/** One phase's progress, as the loader (or any long command) reports it. */
export interface ProgressSnapshot {
  entity: string;
  done: number;
  total: number;
  recordsPerSecond: number;
  callsPerMinute: number;
  /** Seconds to finish the current entity at the current pace; null until there is a pace. */
  etaSeconds: number | null;
}

function eta(seconds: number | null): string {
  if (seconds === null) return '…';
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

interface Phased { phase: string; done: number; total: number }
export interface View<T> { update(p: T): void; stop(): void }

/**
 * A bar per phase on a terminal, else one line every few seconds (on stderr, so stdout stays for
 * the report). `bar` is the bar's format after the phase name ({value}/{total} and any `fields`
 * of the snapshot); `line` the plain-text line.
 */
function phasedView<T>(stream: NodeJS.WriteStream, of: (p: T) => Phased, bar: string, fields: (p: T) => Record<string, string>, line: (p: T) => string): View<T> {
  if (stream.isTTY) {
    let current: cliProgress.SingleBar | null = null;
    let phase: string | null = null;
    return {
      update(p) {
        const s = of(p);
        if (s.phase !== phase) {
          current?.stop();
          phase = s.phase;
          current = new cliProgress.SingleBar({ stream, format: `${s.phase} ${bar}`, hideCursor: true }, cliProgress.Presets.shades_classic);
          current.start(s.total, 0, fields(p));
        }
        current!.update(Math.min(s.done, s.total), fields(p));
      },
      stop: () => current?.stop(),
    };
  }
  let last = 0;
  return {
    update(p) {
      const s = of(p);
      const now = Date.now();
      if (now - last < 5000 && s.done > 0 && s.done < s.total) return;
      last = now;
      stream.write(`${line(p)}\n`);
    },
    stop() {},
  };
}

/** Loader progress: records/s, calls/min and ETA per phase. */
export function progressView(stream: NodeJS.WriteStream = process.stderr): View<ProgressSnapshot> {
  return phasedView<ProgressSnapshot>(stream, (s) => ({ phase: s.entity.padEnd(9), done: s.done, total: s.total }),
    '[{bar}] {value}/{total}  {rps}/s  {cpm} calls/min  ETA {eta}',
    (s) => ({ rps: s.recordsPerSecond.toFixed(1), cpm: String(Math.round(s.callsPerMinute)), eta: eta(s.etaSeconds) }),
    (s) => `load ${s.entity}: ${s.done}/${s.total}, ${s.recordsPerSecond.toFixed(1)} records/s, ${Math.round(s.callsPerMinute)} calls/min, ETA ${eta(s.etaSeconds)}`);
}

/** Rollback progress: deletions per kind of record. */
export function rollbackView(stream: NodeJS.WriteStream = process.stderr): View<{ label: string; done: number; total: number }> {
  return phasedView<{ label: string; done: number; total: number }>(stream, (p) => ({ phase: `rollback ${p.label.padEnd(9)}`, done: p.done, total: p.total }),
    '[{bar}] {value}/{total}', () => ({}), (p) => `rollback ${p.label}: ${p.done}/${p.total}`);
}

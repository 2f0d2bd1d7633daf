import cliProgress from 'cli-progress';
import type { ProgressSnapshot } from '../load/progress.ts';

function eta(seconds: number | null): string {
  if (seconds === null) return '…';
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

/**
 * Renders loader progress: a bar per phase on a terminal, else one line every few seconds
 * (on stderr, so stdout stays for the report).
 */
export function progressView(stream: NodeJS.WriteStream = process.stderr): { update(s: ProgressSnapshot): void; stop(): void } {
  if (stream.isTTY) {
    let bar: cliProgress.SingleBar | null = null;
    let entity = '';
    return {
      update(s) {
        if (s.entity !== entity) {
          bar?.stop();
          entity = s.entity;
          bar = new cliProgress.SingleBar({
            stream, format: `${s.entity.padEnd(9)} [{bar}] {value}/{total}  {rps}/s  {cpm} calls/min  ETA {eta}`, hideCursor: true,
          }, cliProgress.Presets.shades_classic);
          bar.start(s.total, 0, { rps: '0.0', cpm: '0', eta: '…' });
        }
        bar!.update(Math.min(s.done, s.total), { rps: s.recordsPerSecond.toFixed(1), cpm: Math.round(s.callsPerMinute), eta: eta(s.etaSeconds) });
      },
      stop: () => bar?.stop(),
    };
  }
  let last = 0;
  return {
    update(s) {
      const now = Date.now();
      if (now - last < 5000 && s.done < s.total) return;
      last = now;
      stream.write(`load ${s.entity}: ${s.done}/${s.total}, ${s.recordsPerSecond.toFixed(1)} records/s, ${Math.round(s.callsPerMinute)} calls/min, ETA ${eta(s.etaSeconds)}\n`);
    },
    stop() {},
  };
}

import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU seconds used so far by every process of this name (`postgres`, `java` for Kafka), reaped
 * children included: Postgres' backends exit when the consumers disconnect and land in the
 * postmaster's children time. Linux /proc; other systems get null.
 */
export function cpuOf(comm: string): number | null {
  try {
    const tick = 100; // USER_HZ
    let total = 0;
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      let stat: string;
      try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { continue; }
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (name !== comm) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / tick;
    }
    return total;
  } catch {
    return null;
  }
}

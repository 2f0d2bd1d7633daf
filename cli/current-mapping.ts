import type { Config } from '../core/config.ts';
import { mappingHash } from '../core/config.ts';
import { DeskportError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { staleMappingCounts, type Db } from '../staging/index.ts';
import { remapStaged } from '../transform/remap.ts';

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/**
 * Issue 16.5: never load rows mapped with a mapping the operator has since edited. Before a load
 * (and before `check` reads staging), rows whose recorded mapping hash differs from the mapping in
 * effect are mapped again from the raw records staging keeps — what `deskport transform --remap`
 * does — and the terminal says so in one line. Rows already in the target whose content changed
 * are flagged, so a delta or a re-run brings them in line. Several loaders starting at once
 * re-map once: the first takes a lock, the others find nothing stale after it.
 */
export async function ensureCurrentMapping(deps: { db: Db; log: Logger }, config: Config, say?: (line: string) => void): Promise<{ remapped: number; changed: number } | null> {
  const { db, log } = deps;
  const source = config.source.name;
  const hash = mappingHash(config.mapping);
  if (total(await staleMappingCounts(db, source, hash)) === 0) return null;
  const what = config.mapping.file ? `the mapping in ${config.mapping.file}` : 'the mapping';
  return db.transaction(async (trx) => {
    // Held until this transaction ends; the re-mapping itself runs on other connections.
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`deskport remap ${source}`]);
    const stale = total(await staleMappingCounts(db, source, hash));
    if (stale === 0) return null;
    let summary;
    try {
      summary = await remapStaged(db, config, { onlyStale: true, log });
    } catch (err) {
      throw new DeskportError('DESKPORT_STALE_MAPPING', `${stale} staged record(s) were mapped with another mapping than ${what}, and re-applying it failed: ${(err as Error).message}`, {
        cause: err, hint: 'Run `deskport transform --remap` to see the error, fix the mapping, then run this command again.',
      });
    }
    const left = total(await staleMappingCounts(db, source, hash));
    if (left > 0) {
      throw new DeskportError('DESKPORT_STALE_MAPPING', `${left} staged record(s) were mapped with another mapping than ${what} and could not be mapped again; nothing was loaded`, {
        hint: 'Run `deskport transform --remap` to see which, or re-stage the source with `deskport check --refresh`.',
      });
    }
    const entities = ['companies', 'people', 'tickets', 'comments'];
    const changed = entities.reduce((n, e) => n + (summary.byEntity[e]?.changed ?? 0), 0);
    log.info({ stale, changed, seconds: summary.seconds }, 'mapping re-applied to staging');
    say?.(`${stale} staged record(s) were mapped with another mapping than ${what}: re-applied it first, as \`deskport transform --remap\` does (${changed} changed, ${summary.seconds.toFixed(1)} s)`);
    return { remapped: stale, changed };
  });
}

import type { Knex } from 'knex';
import * as m001 from './001_initial.ts';
import * as m002 from './002_extract.ts';
import * as m003 from './003_reconciliation.ts';
import * as m004 from './004_mapping.ts';
import * as m005 from './005_kb.ts';
import * as m006 from './006_rollback.ts';
import * as m007 from './007_v2_writes.ts';
import * as m008 from './008_raw_json.ts';
import * as m013 from './013_mapping_hash.ts';
import * as m014 from './014_kept_assignee.ts';
import * as m015 from './015_kb_category_urls.ts';
import * as m016 from './016_comment_counts.ts';
import * as m009 from './009_load_warnings.ts';
import * as m022 from './022_target_changes.ts';

/** Numbered migrations, never edited after they land; add a new file for every change. */
const MIGRATIONS: Record<string, Knex.Migration> = {
  '001_initial': m001,
  '002_extract': m002,
  '003_reconciliation': m003,
  '004_mapping': m004,
  '005_kb': m005,
  '006_rollback': m006,
  '007_v2_writes': m007,
  '008_raw_json': m008,
  '013_mapping_hash': m013,
  '014_kept_assignee': m014,
  '015_kb_category_urls': m015,
  '016_comment_counts': m016,
  '009_load_warnings': m009,
  '022_target_changes': m022,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name]!,
};

import type { Knex } from 'knex';
import * as m001 from './001_initial.ts';

/** Numbered migrations, never edited after they land; add a new file for every change. */
const MIGRATIONS: Record<string, Knex.Migration> = {
  '001_initial': m001,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name]!,
};

import { stat } from 'node:fs/promises';
import { InputError } from '../core/errors.ts';
import { scanJsonExport } from './json-scanner.ts';
import type { ExportRecord } from './records.ts';


export const EXPORT_ENTITIES = new Set(['organizations', 'users', 'groups', 'ticket_fields', 'tickets', 'kb_categories', 'kb_sections', 'kb_articles']);


/**
 * Streams the records of a Zendesk-style JSON export — one object whose keys (`organizations`,
 * `users`, `tickets`, …) hold arrays — in constant memory, as batches of at most `batchSize`.
 * A `.gz` path is gunzipped on the fly. Syntax errors and truncation become an InputError
 * naming the byte offset and how many records came before (json-scanner.ts).
 */
export async function* readZendeskExport(path: string, opts: { batchSize?: number } = {}): AsyncGenerator<ExportRecord[]> {
  try {
    await stat(path);
  } catch (err) {
    throw new InputError(`cannot open the export file ${path} (${(err as NodeJS.ErrnoException).code})`, {
      cause: err, path, hint: 'Check source.path (DESKPORT_SOURCE_PATH).',
    });
  }
  yield* scanJsonExport(path, EXPORT_ENTITIES, opts);
}

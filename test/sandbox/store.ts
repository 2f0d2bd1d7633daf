// In-memory state of one sandbox account. All writes go through here so persistence
// (write-behind to a JSON file) sees every change.

import { KINDS } from './model.ts';
import { wireShapes, type WireShapes } from './shapes.ts';
import type {
  Base, EmailRecord, ImportRecord, Kind, NewEntity, PendingUpload, Ref, Tables, User,
} from './model.ts';

export type TableMap = { [K in Kind]: Map<number, Tables[K]> };

export interface StateSnapshot {
  version: 1;
  tables: { [K in Kind]: Tables[K][] };
  nextIds: Record<Kind, number>;
  emails: EmailRecord[];
  imports: ImportRecord[];
  uploads: PendingUpload[];
  apiKeys: Record<string, number>;
  /** sha256 per file id; the bytes live next to the state file. */
  blobs: Record<string, string>;
}

/** RFC 3339 without milliseconds, like the Desk API returns. */
export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const emptyTables = (): TableMap => {
  const t = {} as Record<Kind, Map<number, unknown>>;
  for (const k of KINDS) t[k] = new Map();
  return t as TableMap;
};

export class Store {
  tables: TableMap = emptyTables();
  nextIds = {} as Record<Kind, number>;
  emails: EmailRecord[] = [];
  /** key `${source}\u0000${sourceId}` → record; the v1 import dedupe index. */
  imports = new Map<string, ImportRecord>();
  uploads = new Map<string, PendingUpload>();
  blobs = new Map<number, Buffer>();
  /** API key (or OAuth token) → user id. */
  apiKeys = new Map<string, number>();
  private listeners: Array<() => void> = [];
  readonly now: () => number;
  /** The answer shapes in force (the runtime `shapeSeed`; index.ts wires it). */
  shapes: () => WireShapes = () => wireShapes(0);

  constructor(now: () => number) {
    this.now = now;
    for (const k of KINDS) this.nextIds[k] = 1;
  }

  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  changed(): void {
    for (const fn of this.listeners) fn();
  }

  clear(): void {
    this.tables = emptyTables();
    for (const k of KINDS) this.nextIds[k] = 1;
    this.emails = [];
    this.imports.clear();
    this.uploads.clear();
    this.blobs.clear();
    this.apiKeys.clear();
    this.changed();
  }

  timestamp(): string {
    return isoSeconds(this.now());
  }

  insert<K extends Kind>(kind: K, fields: NewEntity<K>, actor: Ref | null): Tables[K] {
    const id = fields.id ?? this.nextIds[kind];
    if (this.tables[kind].has(id)) throw new Error(`sandbox: duplicate ${kind} id ${id}`);
    this.nextIds[kind] = Math.max(this.nextIds[kind], id + 1);
    const ts = this.timestamp();
    const { createdAt, updatedAt, state, ...rest } = fields;
    const rec = {
      id,
      type: kind,
      ...rest,
      createdAt: createdAt ?? ts,
      updatedAt: updatedAt ?? createdAt ?? ts,
      createdBy: actor,
      updatedBy: actor,
      state: state ?? 'active',
    } as unknown as Tables[K];
    this.tables[kind].set(id, rec);
    this.changed();
    return rec;
  }

  /** Active (not deleted) record or undefined. */
  get<K extends Kind>(kind: K, id: number): Tables[K] | undefined {
    const rec = this.tables[kind].get(id);
    return rec && (rec as Base).state !== 'deleted' ? rec : undefined;
  }

  /** Any record, deleted included (admin read-back). */
  raw<K extends Kind>(kind: K, id: number): Tables[K] | undefined {
    return this.tables[kind].get(id);
  }

  list<K extends Kind>(kind: K): Tables[K][] {
    return [...this.tables[kind].values()].filter((r) => (r as Base).state !== 'deleted');
  }

  all<K extends Kind>(kind: K): Tables[K][] {
    return [...this.tables[kind].values()];
  }

  update<K extends Kind>(kind: K, id: number, patch: Partial<Tables[K]>, actor: Ref | null): Tables[K] {
    const rec = this.tables[kind].get(id);
    if (!rec) throw new Error(`sandbox: no ${kind} ${id}`);
    Object.assign(rec as object, patch, { updatedAt: this.timestamp(), updatedBy: actor });
    this.changed();
    return rec;
  }

  softDelete(kind: Kind, id: number, actor: Ref | null): void {
    this.update(kind, id, { state: 'deleted' } as Partial<Tables[typeof kind]>, actor);
  }

  userByKey(key: string): User | undefined {
    const id = this.apiKeys.get(key);
    return id === undefined ? undefined : this.get('users', id);
  }

  snapshot(): StateSnapshot {
    const tables = {} as Record<Kind, unknown[]>;
    for (const k of KINDS) tables[k] = this.all(k);
    const blobs: Record<string, string> = {};
    for (const [id] of this.blobs) {
      const f = this.raw('files', id);
      if (f?._sandbox.sha256) blobs[String(id)] = f._sandbox.sha256;
    }
    return {
      version: 1,
      tables: tables as StateSnapshot['tables'],
      nextIds: { ...this.nextIds },
      emails: this.emails,
      imports: [...this.imports.values()],
      uploads: [...this.uploads.values()],
      apiKeys: Object.fromEntries(this.apiKeys),
      blobs,
    };
  }

  restore(s: StateSnapshot, blobs: Map<number, Buffer>): void {
    this.tables = emptyTables();
    for (const k of KINDS) {
      const map = this.tables[k] as Map<number, unknown>;
      for (const r of s.tables[k] ?? []) map.set((r as Base).id, r);
    }
    this.nextIds = { ...this.nextIds, ...s.nextIds };
    this.emails = s.emails ?? [];
    this.imports = new Map((s.imports ?? []).map((r) => [importKey(r.source, r.sourceId), r]));
    this.uploads = new Map((s.uploads ?? []).map((u) => [u.key, u]));
    this.apiKeys = new Map(Object.entries(s.apiKeys ?? {}));
    this.blobs = blobs;
  }
}

export const importKey = (source: string, sourceId: number): string => `${source}\u0000${sourceId}`;

export const ref = (type: Kind, id: number): Ref => ({ id, type });

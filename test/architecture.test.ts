/**
 * Dependencies run one way: cli → stages (extract, transform, load, serve) → staging → core.
 * Reads every import (static, dynamic, re-export) of every non-test source file and fails,
 * naming the file and the import, on an import against that direction or on any cycle.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { describe, it } from 'node:test';

const STAGES = ['extract', 'transform', 'load', 'serve'] as const;
const LAYERED = ['cli', 'core', 'staging', ...STAGES] as const;

export interface SourceImport {
  from: string;
  /** Repository-relative path of the imported file (relative specifiers only). */
  to: string;
  specifier: string;
  typeOnly: boolean;
}

const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** The relative imports of one file's text. */
export function importsOf(file: string, text: string): SourceImport[] {
  const out: SourceImport[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const specifier = m[3] ?? m[4];
    if (!specifier) continue;
    out.push({ from: file, to: posix.normalize(posix.join(posix.dirname(file), specifier)), specifier, typeOnly: Boolean(m[2]) });
  }
  return out;
}

function folderOf(file: string): string {
  return file.split('/')[0];
}

/** What is wrong with one import, or null. */
export function violation(imp: SourceImport): string | null {
  const from = folderOf(imp.from);
  const to = folderOf(imp.to);
  if (from === to) return null;
  const what = `${imp.from} imports '${imp.specifier}'`;
  if (to === 'cli') return `${what}: nothing imports from cli/ (it is the roof)`;
  if (from === 'core') return `${what}: core/ imports nothing outside core/`;
  if (from === 'staging' && to !== 'core') return `${what}: staging/ imports only core/`;
  if ((STAGES as readonly string[]).includes(from)) {
    if ((STAGES as readonly string[]).includes(to)) return `${what}: a stage never imports another stage (share it through staging/ or core/)`;
    if (to !== 'staging' && to !== 'core') return `${what}: a stage imports only staging/ and core/`;
  }
  return null;
}

/** Every import cycle between files, each as the list of files around it. */
export function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts') && !path.endsWith('.test.ts')) out.push(relative('.', path).split('\\').join('/'));
    }
  };
  for (const folder of LAYERED) walk(folder);
  return out.sort();
}

function check(files: Map<string, string>): { violations: string[]; cycles: string[][] } {
  const graph = new Map<string, string[]>();
  const violations: string[] = [];
  for (const [file, text] of files) {
    const imports = importsOf(file, text);
    graph.set(file, imports.map((i) => i.to));
    for (const imp of imports) {
      const v = violation(imp);
      if (v) violations.push(v);
    }
  }
  return { violations, cycles: cycles(graph) };
}

describe('architecture: dependency direction', () => {
  it('the tree: no import against the direction, no cycle', () => {
    const files = new Map(sourceFiles().map((f) => [f, readFileSync(f, 'utf8')]));
    assert.ok(files.size > 50, `read ${files.size} source files`);
    const result = check(files);
    assert.deepEqual({ violations: result.violations, cycles: result.cycles.map((c) => c.join(' → ')) }, { violations: [], cycles: [] });
  });

  it('fails on a deliberately wrong import, naming the file and the import', () => {
    const files = new Map([
      ['core/config.ts', `import { x } from '../transform/rules.ts';\n`],
      ['staging/queries/a.ts', `import type { Loader } from '../../load/loader.ts';\n`],
      ['load/loader.ts', `import { startTransform } from '../transform/index.ts';\nconst m = await import('../cli/app.ts');\n`],
      ['transform/rules.ts', `export { y } from '../core/config.ts';\n`],
      ['extract/a.ts', `import type { B } from './b.ts';\n`],
      ['extract/b.ts', `import { a } from './a.ts';\n`],
    ]);
    const result = check(files);
    assert.deepEqual(result.violations.sort(), [
      "core/config.ts imports '../transform/rules.ts': core/ imports nothing outside core/",
      "load/loader.ts imports '../cli/app.ts': nothing imports from cli/ (it is the roof)",
      "load/loader.ts imports '../transform/index.ts': a stage never imports another stage (share it through staging/ or core/)",
      "staging/queries/a.ts imports '../../load/loader.ts': staging/ imports only core/",
    ]);
    assert.deepEqual(result.cycles.map((c) => c.join(' → ')).sort(), [
      'core/config.ts → transform/rules.ts → core/config.ts',
      'extract/a.ts → extract/b.ts → extract/a.ts',
    ]);
  });

  it('reads multi-line, type-only, re-export and dynamic imports', () => {
    const text = [
      `import {`,
      `  a,`,
      `  b,`,
      `} from '../staging/index.ts';`,
      `import type { C } from './c.ts';`,
      `export * from './d.ts';`,
      `const e = await import('../core/e.ts');`,
      `import 'node:fs';`,
      `import { z } from 'zod';`,
    ].join('\n');
    assert.deepEqual(importsOf('load/x.ts', text).map((i) => [i.to, i.typeOnly]), [
      ['staging/index.ts', false], ['load/c.ts', true], ['load/d.ts', false], ['core/e.ts', false],
    ]);
  });
});

import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Metrics are injected, not global: each process builds one Registry and hands it to its stages.
 * The get-or-create helpers let tests build stages repeatedly on one registry.
 * Names follow `deskport_<stage>_<what>_<unit>`; labels have bounded cardinality (never an id).
 */
export function createRegistry(): Registry {
  return new Registry();
}

export function counter<L extends string>(reg: Registry, name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  return (reg.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [reg] });
}

export function gauge<L extends string>(reg: Registry, name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
  return (reg.getSingleMetric(name) as Gauge<L> | undefined) ?? new Gauge({ name, help, labelNames, registers: [reg] });
}

export function histogram<L extends string>(
  reg: Registry, name: string, help: string, labelNames: readonly L[] = [], buckets?: number[],
): Histogram<L> {
  return (reg.getSingleMetric(name) as Histogram<L> | undefined)
    ?? new Histogram({ name, help, labelNames, registers: [reg], ...(buckets ? { buckets } : {}) });
}

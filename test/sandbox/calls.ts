// Call counts by endpoint (method + route pattern) and outcome (HTTP status, or "dropped" /
// "lost" for injected socket faults). Admin requests are not counted.

export interface CallCount {
  method: string;
  route: string;
  status: string;
  count: number;
}

export class CallLog {
  private readonly counts = new Map<string, CallCount>();

  record(method: string, route: string, status: number | 'dropped' | 'lost'): void {
    const key = `${method} ${route} ${status}`;
    const c = this.counts.get(key);
    if (c) c.count += 1;
    else this.counts.set(key, { method, route, status: String(status), count: 1 });
  }

  list(): CallCount[] {
    return [...this.counts.values()].sort((a, b) => a.route.localeCompare(b.route) || a.method.localeCompare(b.method) || a.status.localeCompare(b.status));
  }

  /** Total for a route pattern (any method/status unless given). */
  count(filter: { method?: string; route?: string; status?: number | string } = {}): number {
    return this.list()
      .filter((c) => (!filter.method || c.method === filter.method) && (!filter.route || c.route === filter.route)
        && (filter.status === undefined || c.status === String(filter.status)))
      .reduce((n, c) => n + c.count, 0);
  }

  reset(): void {
    this.counts.clear();
  }
}

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

// Idempotent per registry: a registry that already holds a metric of that name keeps it (two
// services started on one registry, a module registering twice), and a name taken by another
// type fails loudly instead of exporting something the dashboard would misread.

function existing<M>(registry: Registry, name: string, type: abstract new (...args: never[]) => M): M | undefined {
  const found = registry.getSingleMetric(name);
  if (found === undefined) return undefined;
  if (!(found instanceof type)) throw new Error(`metric ${name} is already registered with another type`);
  return found as M;
}

export function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  return existing<Counter<L>>(registry, name, Counter) ?? new Counter({ name, help, labelNames, registers: [registry] });
}

export function histogram<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[], buckets: number[]): Histogram<L> {
  return existing<Histogram<L>>(registry, name, Histogram) ?? new Histogram({ name, help, labelNames, buckets, registers: [registry] });
}

/** A gauge computed when scraped; `collect` sets its values (and removes them when it cannot know). */
export function scrapedGauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  collect: (gauge: Gauge<L>) => Promise<void>,
): Gauge<L> {
  return (
    existing<Gauge<L>>(registry, name, Gauge) ??
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        await collect(this);
      },
    })
  );
}

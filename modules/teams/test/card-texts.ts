/** Every text a Markdown renderer reads in a card (TextBlocks, facts) and every TextRun (never Markdown). */
export function texts(card: unknown): { markdown: string[]; runs: string[] } {
  const markdown: string[] = [];
  const runs: string[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) return x.forEach(walk);
    if (!x || typeof x !== 'object') return;
    const o = x as Record<string, unknown>;
    if (o.type === 'TextBlock' && typeof o.text === 'string') markdown.push(o.text);
    else if (o.type === 'TextRun' && typeof o.text === 'string') runs.push(o.text);
    else if (o.type === 'FactSet') for (const f of o.facts as { title: string; value: string }[]) markdown.push(f.title, f.value);
    else Object.values(o).forEach(walk);
  };
  walk(card);
  return { markdown, runs };
}

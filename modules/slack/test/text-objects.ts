/**
 * Every Block Kit text object in a payload (section text and fields, context elements, header,
 * modal titles), in order, with its type and, where set, whether emoji codes are drawn.
 */
export function textObjects(value: unknown): { type: string; text: string; emoji?: unknown }[] {
  const out: { type: string; text: string; emoji?: unknown }[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) return x.forEach(walk);
    if (!x || typeof x !== 'object') return;
    const o = x as Record<string, unknown>;
    if ((o.type === 'mrkdwn' || o.type === 'plain_text') && typeof o.text === 'string') out.push({ type: o.type, text: o.text, ...(o.emoji !== undefined ? { emoji: o.emoji } : {}) });
    else Object.values(o).forEach(walk);
  };
  walk(value);
  return out;
}

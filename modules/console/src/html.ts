import { displayText } from '@countersign/contracts';

// Server-rendered HTML with escaping by default: every interpolated value is escaped unless it
// is already Html (built by this tag). Pages are strings; no template engine, no inline script.
// Shown text is also made visible by default: a bidi override, a zero-width or a control
// character in it becomes a ⟨U+XXXX⟩ mark (displayText), so that what callers wrote is shown as
// it is ("invoice\u202Efdp.exe" would read "invoiceexe.pdf"). Only a form's own value, which
// must go back exactly as it came, is escaped without marks (formValue).

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Value = Html | string | number | boolean | null | undefined | readonly Value[];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(displayText(String(value)));
}

/**
 * What a form field holds and sends back (a textarea's reason, a filter's value): escaped but
 * not marked, so a submission that is refused and shown again sends the same text.
 */
export function formValue(text: string): Html {
  return new Html(escapeHtml(text));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => (out += render(v) + strings[i + 1]!));
  return new Html(out);
}

/** "3 min", "2 h 5 min", "4 d": durations a reviewer reads at a glance. */
export function duration(ms: number): string {
  const m = Math.max(0, Math.round(ms / 60_000));
  if (m < 1) return 'under a minute';
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
  return `${Math.floor(h / 24)} d`;
}

export function when(iso: string | undefined | null): Html {
  if (!iso) return html``;
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}

// Text helpers for Block Kit. Everything shown on a card comes from an intent, i.e. from the
// caller: it is escaped so that "<!channel>" or "<https://evil|click>" in a summary renders as
// text and never pings a channel or disguises a link.

/** Slack's three control characters in mrkdwn and plain text. */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Cuts to at most `max` characters, with an ellipsis. Block Kit limits count the text Slack
 * receives, so callers escape first and clip second; an entity ("&amp;") is never cut in half.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  // Do not leave a half entity ("&am") behind.
  const amp = cut.lastIndexOf('&');
  if (amp !== -1 && amp > cut.length - 5 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  return `${cut}…`;
}

/**
 * Caller text as an inline code span: Slack applies no formatting inside one, and a backtick
 * (drawn as a look-alike) or a line break can no longer close it and start the card's own
 * looking text ("*Approvals:* 2 of 2 ✅").
 */
export function code(text: string, max: number): string {
  return `\`${safe(text.replace(/`/g, 'ˋ').replace(/[\r\n]+/g, ' '), max)}\``;
}

/** Escaped and clipped: the form every caller-supplied value takes on a card. */
export function safe(text: string, max: number): string {
  return clip(escapeText(text), max);
}

/** A Slack date token: rendered in each reader's time zone, with the ISO time as fallback. */
export function slackDate(iso: string): string {
  const seconds = Math.floor(Date.parse(iso) / 1000);
  if (!Number.isFinite(seconds)) return escapeText(iso);
  return `<!date^${seconds}^{date_short_pretty} at {time}|${iso}>`;
}

/**
 * Caller or people's text as a plain_text object: Slack shows it exactly as written, so
 * "*APPROVED*", "~prod~", "<!channel>" or "<https://evil|here>" never become formatting,
 * mentions or links of ours. Not entity-escaped, as on the card (Slack decodes no numeric
 * entity, so "&#x202E;" stays those eight characters); emoji codes stay literal. Pass text in
 * display form (hidden characters as ⟨U+XXXX⟩ marks).
 */
export function agentWords(text: string, max: number): { type: 'plain_text'; text: string; emoji: false } {
  return { type: 'plain_text', text: clip(text, max), emoji: false };
}

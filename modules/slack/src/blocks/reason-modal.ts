import type { View } from '@slack/types';
import { z } from 'zod';
import { agentWords } from './mrkdwn.ts';

// The modal that asks for a reason: always for a deny, for an approval where the rule says so.
// What to vote on travels in private_metadata, which Slack keeps server-side and returns in
// the signed submission; it is still parsed with zod, like any input. The agent's summary is
// quoted as plain_text, as on the card: where the reviewer types a deny, "~prod-eu-1~" or
// "*approved*" in it must show as typed, never as formatting of the modal's own.

export const REASON_CALLBACK_ID = 'countersign:reason';
export const REASON_BLOCK_ID = 'reason';
export const REASON_ACTION_ID = 'reason';
/** The engine's (and the API's) limit for a vote reason. */
export const REASON_MAX = 2000;

export const ReasonMetadataSchema = z.strictObject({
  actionId: z.string().min(1).max(200),
  decision: z.enum(['approve', 'deny']),
  /** Where the clicked card is, for an ephemeral answer if the vote is refused. */
  channel: z.string().min(1).max(50).nullable(),
});
export type ReasonMetadata = z.output<typeof ReasonMetadataSchema>;

/** `title` is the card model's (display form: hidden characters marked, on one line). */
export function reasonModal(meta: ReasonMetadata, title: string): View {
  const verb = meta.decision === 'deny' ? 'Deny' : 'Approve';
  return {
    type: 'modal',
    callback_id: REASON_CALLBACK_ID,
    private_metadata: JSON.stringify(meta),
    title: { type: 'plain_text', text: `${verb} request` },
    submit: { type: 'plain_text', text: verb },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: agentWords(`The agent says: “${title}”`, 3000) },
      {
        type: 'input',
        block_id: REASON_BLOCK_ID,
        label: { type: 'plain_text', text: meta.decision === 'deny' ? 'Why are you denying it?' : 'Why are you approving it?' },
        element: { type: 'plain_text_input', action_id: REASON_ACTION_ID, multiline: true, min_length: 1, max_length: REASON_MAX },
      },
    ],
  };
}

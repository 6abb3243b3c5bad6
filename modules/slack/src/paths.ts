/** Where Slack sends interactivity and events (SPEC HTTP contract), on the service's own port. */
export const SLACK_EVENTS_PATH = '/slack/events';

import { DirectoryFileSchema } from '@countersign/contracts';
import { contentDigest } from './digest.ts';
import { buildDirectory } from './directory.ts';
import type { Directory } from './directory.ts';
import { parseYamlWithSchema } from './yaml-config.ts';

/**
 * Parse and check a directory file. Beyond the schema, identities must be unambiguous: a vote
 * maps a channel identity to exactly one person, so two people sharing a Slack id, Teams id
 * or email would let one of them vote as the other. Throws ConfigError.
 */
export function loadDirectory(text: string, fileName: string): Directory {
  const parsed = parseYamlWithSchema(text, fileName, DirectoryFileSchema);
  const { people, agents } = parsed.value;

  const seenIds = new Map<string, string>();
  const claim = (id: string, path: (string | number)[]) => {
    const first = seenIds.get(id);
    if (first) throw parsed.errorAt(path, `duplicate id "${id}" (already used at ${first})`);
    const { line, column } = parsed.locate(path);
    seenIds.set(id, `line ${line}, column ${column}`);
  };
  people.forEach((p, i) => claim(p.id, ['people', i, 'id']));
  agents.forEach((a, i) => claim(a.id, ['agents', i, 'id']));

  const unique = (label: string, key: string, path: (string | number)[], seen: Map<string, string>) => {
    const first = seen.get(key);
    if (first) throw parsed.errorAt(path, `${label} is also used by person "${first}"; each must map to exactly one person`);
  };
  const slack = new Map<string, string>();
  const teams = new Map<string, string>();
  const email = new Map<string, string>();
  people.forEach((p, i) => {
    if (p.slack) {
      unique(`Slack user id ${p.slack.userId}`, p.slack.userId, ['people', i, 'slack', 'userId'], slack);
      slack.set(p.slack.userId, p.id);
    }
    if (p.teams) {
      const key = p.teams.aadObjectId.toLowerCase();
      unique(`Teams AAD object id ${p.teams.aadObjectId}`, key, ['people', i, 'teams', 'aadObjectId'], teams);
      teams.set(key, p.id);
    }
    const key = p.email.toLowerCase();
    unique(`email ${p.email}`, key, ['people', i, 'email'], email);
    email.set(key, p.id);
  });

  const personIds = new Set(people.map((p) => p.id));
  agents.forEach((a, i) => {
    // An agent owned by another agent (or nobody) has no accountable human: refuse to load.
    if (!personIds.has(a.owner)) {
      throw parsed.errorAt(['agents', i, 'owner'], `agent "${a.id}" has owner "${a.owner}", which is not a person in this directory`);
    }
  });

  return buildDirectory(contentDigest(text), people, agents);
}

-- Hand-written: least privilege for the service. Migrations run as the schema owner; the
-- service connects as a login role that is a member of "countersign_service" (created by
-- ensureServiceLogin in packages/db/src/migrate, by `npm start`, the tests, the Compose
-- `migrate` service and the Kubernetes migration Job). Owning nothing, that role can never
-- ALTER, DROP or disable a trigger on a table, and it is granted only what the service does:
-- on "Artifact" SELECT and INSERT (no UPDATE, DELETE or TRUNCATE: the append-only trigger then
-- guards against the owner's own mistakes), on "ArtifactHead" moving the chain's head.
-- Prisma's schema diff ignores roles and grants, so schema.prisma stays in sync.

-- Roles belong to the whole Postgres server, not to one database: another database on the same
-- server (or an administrator who created it beforehand) may already have it.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'countersign_service') THEN
    CREATE ROLE "countersign_service" NOLOGIN;
  END IF;
END
$$;

-- Postgres 15+ already refuses CREATE in "public" to everyone but its owner; older servers do
-- not, and the service must not add objects of its own next to ours.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO "countersign_service";

-- Ordinary tables: what the repositories in packages/db do with them.
GRANT SELECT, INSERT, UPDATE, DELETE ON
  "Action", "Vote", "ApiKey", "ConfigVersion", "OutboxEvent", "ChannelCard", "TeamsConversation",
  "ReleaseRedemption", "Delivery", "ConsoleLogin", "ConsoleSession"
TO "countersign_service";

-- The evidence store: append and read, nothing else.
GRANT SELECT, INSERT ON "Artifact" TO "countersign_service";
-- The chain head: one row, created by the migrations; appending moves its seq and hash.
GRANT SELECT ON "ArtifactHead" TO "countersign_service";
GRANT UPDATE ("seq", "hash") ON "ArtifactHead" TO "countersign_service";

GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "countersign_service";

-- Tables and sequences that later migrations create (as this same owner) get the ordinary
-- grants. A later table that must be append-only too revokes UPDATE and DELETE in its own
-- migration, as above. "_prisma_migrations" was created before this and stays the owner's.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "countersign_service";
ALTER DEFAULT PRIVILEGES IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO "countersign_service";

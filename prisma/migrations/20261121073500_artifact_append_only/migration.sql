-- Hand-written: the evidence store is append-only. The database itself refuses to change or
-- remove a sealed artifact, whatever the application (or anyone with SQL access) attempts:
-- a BEFORE trigger on UPDATE/DELETE for every row, and one on TRUNCATE for the statement.
-- Prisma's schema diff ignores triggers and functions, so schema.prisma stays in sync.

-- The function raises for both triggers; TG_OP names the refused operation.
CREATE FUNCTION "artifact_refuse_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'artifact_append_only: % on "Artifact" is not allowed', TG_OP
    USING HINT = 'Artifacts are sealed evidence: append a new artifact instead.';
END;
$$;

CREATE TRIGGER "Artifact_refuse_update_delete"
  BEFORE UPDATE OR DELETE ON "Artifact"
  FOR EACH ROW EXECUTE FUNCTION "artifact_refuse_change"();

CREATE TRIGGER "Artifact_refuse_truncate"
  BEFORE TRUNCATE ON "Artifact"
  FOR EACH STATEMENT EXECUTE FUNCTION "artifact_refuse_change"();

-- The chain starts empty: sequence 0 and the all-zero hash that the first artifact links to.
INSERT INTO "ArtifactHead" ("id", "seq", "hash")
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

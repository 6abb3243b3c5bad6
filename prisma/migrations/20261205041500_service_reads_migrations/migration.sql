-- The service's login may read which migrations were applied (and nothing else of Prisma's
-- table): a service started with COUNTERSIGN_SKIP_MIGRATIONS=1 checks that the schema is not
-- behind its build before it serves, instead of failing on the first query that needs a newer
-- table or column. Prisma's schema diff ignores grants, so schema.prisma stays in sync.
GRANT SELECT ON "_prisma_migrations" TO "countersign_service";

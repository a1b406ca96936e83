-- CreateTable
CREATE TABLE "kv_entries" (
    "key" TEXT COLLATE "C" NOT NULL,
    "kind" TEXT NOT NULL,
    "value" TEXT,
    "expires_at" BIGINT,

    CONSTRAINT "kv_entries_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "kv_hash_fields" (
    "key" TEXT COLLATE "C" NOT NULL,
    "field" TEXT COLLATE "C" NOT NULL,
    "value" TEXT NOT NULL,

    CONSTRAINT "kv_hash_fields_pkey" PRIMARY KEY ("key","field")
);

-- CreateTable
CREATE TABLE "kv_locks" (
    "name" TEXT NOT NULL,
    "token" TEXT NOT NULL,
    "expires_at" BIGINT NOT NULL,

    CONSTRAINT "kv_locks_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "kv_entries_expires_at_idx" ON "kv_entries"("expires_at");

-- CreateIndex
CREATE INDEX "kv_locks_expires_at_idx" ON "kv_locks"("expires_at");

-- AddForeignKey
ALTER TABLE "kv_hash_fields" ADD CONSTRAINT "kv_hash_fields_key_fkey" FOREIGN KEY ("key") REFERENCES "kv_entries"("key") ON DELETE CASCADE ON UPDATE CASCADE;

-- Keys are compared and listed in byte order (as Redis and SQLite do), whatever the
-- database's default collation: hence COLLATE "C" on the key columns above.

-- A hash key overwritten by a string loses its fields in the same statement, so `set`,
-- `mset` and `incr` stay one round trip.
CREATE FUNCTION "kv_entries_reset_fields"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM "kv_hash_fields" WHERE "key" = OLD."key";
    RETURN NULL;
END;
$$;

CREATE TRIGGER "kv_entries_reset_fields" AFTER UPDATE ON "kv_entries"
FOR EACH ROW WHEN (OLD."kind" = 'hash' AND NEW."kind" <> 'hash')
EXECUTE FUNCTION "kv_entries_reset_fields"();

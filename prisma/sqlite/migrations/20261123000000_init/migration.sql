-- CreateTable
CREATE TABLE "kv_entries" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "value" TEXT,
    "expires_at" BIGINT
);

-- CreateTable
CREATE TABLE "kv_hash_fields" (
    "key" TEXT NOT NULL,
    "field" TEXT NOT NULL,
    "value" TEXT NOT NULL,

    PRIMARY KEY ("key", "field"),
    CONSTRAINT "kv_hash_fields_key_fkey" FOREIGN KEY ("key") REFERENCES "kv_entries" ("key") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "kv_locks" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "token" TEXT NOT NULL,
    "expires_at" BIGINT NOT NULL
);

-- CreateIndex
CREATE INDEX "kv_entries_expires_at_idx" ON "kv_entries"("expires_at");

-- CreateIndex
CREATE INDEX "kv_locks_expires_at_idx" ON "kv_locks"("expires_at");

-- A hash key overwritten by a string loses its fields in the same statement, so `set`,
-- `mset` and `incr` stay one round trip.
CREATE TRIGGER "kv_entries_reset_fields" AFTER UPDATE ON "kv_entries"
WHEN OLD."kind" = 'hash' AND NEW."kind" <> 'hash'
BEGIN
    DELETE FROM "kv_hash_fields" WHERE "key" = OLD."key";
END;

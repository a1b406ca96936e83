-- CreateTable
CREATE TABLE "kv_scripts" (
    "sha" TEXT NOT NULL PRIMARY KEY,
    "body" TEXT NOT NULL,
    "created_at" BIGINT NOT NULL
);

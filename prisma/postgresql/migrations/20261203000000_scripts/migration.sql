-- CreateTable
CREATE TABLE "kv_scripts" (
    "sha" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "created_at" BIGINT NOT NULL,

    CONSTRAINT "kv_scripts_pkey" PRIMARY KEY ("sha")
);

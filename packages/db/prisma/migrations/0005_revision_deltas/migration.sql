-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Revision" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "number" INTEGER NOT NULL,
    "hash" TEXT NOT NULL,
    "authorId" INTEGER,
    "authorName" TEXT NOT NULL,
    "message" TEXT NOT NULL DEFAULT '',
    "parentNumber" INTEGER,
    "kind" TEXT NOT NULL DEFAULT 'change',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "snapshot" TEXT,
    "delta" TEXT,
    CONSTRAINT "Revision_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Revision" ("authorId", "authorName", "createdAt", "hash", "id", "kind", "message", "number", "parentNumber", "snapshot") SELECT "authorId", "authorName", "createdAt", "hash", "id", "kind", "message", "number", "parentNumber", "snapshot" FROM "Revision";
DROP TABLE "Revision";
ALTER TABLE "new_Revision" RENAME TO "Revision";
CREATE UNIQUE INDEX "Revision_number_key" ON "Revision"("number");
CREATE INDEX "Revision_authorId_idx" ON "Revision"("authorId");
CREATE INDEX "Revision_createdAt_idx" ON "Revision"("createdAt");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

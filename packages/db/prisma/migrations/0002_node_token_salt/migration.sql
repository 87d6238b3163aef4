-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Node" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "labels" TEXT NOT NULL DEFAULT '{}',
    "tokenHash" TEXT NOT NULL,
    "tokenSalt" TEXT NOT NULL DEFAULT '',
    "facts" TEXT,
    "lastSeenAt" DATETIME,
    "appliedRevision" INTEGER,
    "appliedHash" TEXT,
    "drift" BOOLEAN NOT NULL DEFAULT false,
    "lastError" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO "new_Node" ("appliedHash", "appliedRevision", "createdAt", "drift", "facts", "id", "labels", "lastError", "lastSeenAt", "name", "tokenHash", "url") SELECT "appliedHash", "appliedRevision", "createdAt", "drift", "facts", "id", "labels", "lastError", "lastSeenAt", "name", "tokenHash", "url" FROM "Node";
DROP TABLE "Node";
ALTER TABLE "new_Node" RENAME TO "Node";
CREATE UNIQUE INDEX "Node_name_key" ON "Node"("name");
CREATE UNIQUE INDEX "Node_tokenHash_key" ON "Node"("tokenHash");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- DropIndex
DROP INDEX "NodeGroup_name_key";

-- DropIndex
DROP INDEX "_NodeToNodeGroup_B_index";

-- DropIndex
DROP INDEX "_NodeToNodeGroup_AB_unique";

-- AlterTable
ALTER TABLE "Node" ADD COLUMN "desiredHash" TEXT;
ALTER TABLE "Node" ADD COLUMN "desiredRevision" INTEGER;

-- DropTable
PRAGMA foreign_keys=off;
DROP TABLE "NodeGroup";
PRAGMA foreign_keys=on;

-- DropTable
PRAGMA foreign_keys=off;
DROP TABLE "_NodeToNodeGroup";
PRAGMA foreign_keys=on;

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Farm" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "config" TEXT NOT NULL,
    "updatedRevision" INTEGER NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);
INSERT INTO "new_Farm" ("config", "createdAt", "id", "name", "updatedAt", "updatedRevision") SELECT "config", "createdAt", "id", "name", "updatedAt", "updatedRevision" FROM "Farm";
DROP TABLE "Farm";
ALTER TABLE "new_Farm" RENAME TO "Farm";
CREATE UNIQUE INDEX "Farm_name_key" ON "Farm"("name");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

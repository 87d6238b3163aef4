-- CreateIndex
CREATE INDEX "AuditEvent_revisionNumber_entityType_idx" ON "AuditEvent"("revisionNumber", "entityType");

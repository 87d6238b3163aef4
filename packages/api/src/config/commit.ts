import { TRPCError } from "@trpc/server";
import { diffConfigs, type Config } from "@switchyard/core";
import type { Database, RevisionKind } from "@switchyard/db";
import type { Deployer } from "../deploy/deployer.ts";
import { ChangeRefused } from "../errors.ts";
import type { Actor } from "../trpc.ts";
import { known, remember } from "./cache.ts";
import { chainBefore, readRevisionConfig, revisionColumns } from "./revision-store.ts";
import { farmCanonicalJson, writeFarms, type Tx } from "./store.ts";

// Every change to the desired config is one database transaction that writes the farms it
// touches, a new Revision (the whole config, its hash, who, when, why) and an AuditEvent per
// farm touched (before and after). A change based on a revision older than the last change of
// a farm it touches is refused as a conflict, naming who changed it, and writes nothing.

export interface ChangeRequest {
  /** The revision the client saw; omitted = no concurrency check (automation that owns the farm). */
  baseRevision?: number | undefined;
  message?: string | undefined;
  /** What the caller did, as the audit log names it: "farm.create", "backend.state", "revision.rollback"… */
  action: string;
  kind?: RevisionKind;
}

export interface ChangeOutcome {
  /** The revision now current (unchanged when the change changed nothing). */
  revision: number;
  changed: boolean;
  config: Config;
}

/**
 * What a change procedure answers: the revision now current, and whether this change made it.
 * A change that made a revision starts a deploy of it; the answer does not wait for the nodes
 * (their progress is in deployments), and a deploy's failure is recorded there, not thrown here.
 */
export const committed =
  (deployer: Deployer | undefined) =>
  ({ revision, changed }: ChangeOutcome) => {
    if (changed) void deployer?.deployLatest().catch(() => {});
    return { revision, changed };
  };

/** Writes are one at a time per process; SQLite serializes processes (WAL, busy timeout). */
let tail: Promise<unknown> = Promise.resolve();
function serially<T>(task: () => Promise<T>): Promise<T> {
  const result = tail.then(task);
  tail = result.then(
    () => undefined,
    () => undefined,
  );
  return result;
}

async function assertUnchangedSince(tx: Tx, farms: string[], base: number): Promise<void> {
  // The farms changed since `base` (few, usually), then those this change touches: a `name IN`
  // list of every farm of an import would pass SQLite's limit on bound parameters.
  const touched = new Set(farms);
  const newer = (await tx.farm.findMany({ where: { updatedRevision: { gt: base } }, orderBy: { updatedRevision: "desc" }, select: { name: true, updatedRevision: true } })).find((f) => touched.has(f.name));
  if (newer === undefined) return;
  const revision = await tx.revision.findUnique({ where: { number: newer.updatedRevision } });
  const author = revision?.authorName ?? "someone";
  const at = revision?.createdAt.toISOString() ?? "";
  throw new TRPCError({
    code: "CONFLICT",
    message: `farm ${newer.name} was changed by ${author} in revision ${newer.updatedRevision} (${at}) after revision ${base}, which this change is based on; reload and apply it again`,
    cause: new ChangeRefused("conflict", [], { revision: newer.updatedRevision, author, at }),
  });
}

export function commitChange(db: Database, actor: Actor, request: ChangeRequest, mutate: (current: Config) => Config): Promise<ChangeOutcome> {
  return serially(() =>
    db.$transaction(async (tx) => {
      const latest = (await tx.revision.findFirst({ orderBy: { number: "desc" }, select: { number: true } }))?.number ?? 0;
      if (request.baseRevision !== undefined && request.baseRevision > latest) {
        throw new TRPCError({ code: "BAD_REQUEST", message: `baseRevision ${request.baseRevision} does not exist yet (the latest is ${latest})` });
      }
      // From the revision, not the farm rows: a delta is taken against its parent as stored (order included).
      const current = known(db, latest) ?? (await readRevisionConfig(tx, latest)) ?? { farms: [] };
      const next = mutate(current);
      const diff = diffConfigs(current, next);
      if (diff.farms.length === 0) return { revision: latest, changed: false, config: current };
      if (request.baseRevision !== undefined) await assertUnchangedSince(tx, diff.farms.map((f) => f.name), request.baseRevision);
      const number = latest + 1;
      await tx.revision.create({
        data: {
          number,
          ...revisionColumns(number, latest === 0 ? null : current, next, await chainBefore(tx, latest)),
          authorId: actor.id,
          authorName: actor.name,
          message: request.message ?? "",
          parentNumber: latest === 0 ? null : latest,
          kind: request.kind ?? "change",
        },
      });
      await writeFarms(tx, next, diff, number);
      const before = new Map(current.farms.map((f) => [f.name, f]));
      const after = new Map(next.farms.map((f) => [f.name, f]));
      const json = (farm: Config["farms"][number] | undefined) => (farm === undefined ? null : farmCanonicalJson(farm));
      await tx.auditEvent.createMany({
        data: diff.farms.map((f) => ({
          actorName: actor.name,
          actorId: actor.id,
          action: request.action,
          entityType: "farm",
          entityName: f.name,
          before: json(before.get(f.name)),
          after: json(after.get(f.name)),
          revisionNumber: number,
        })),
      });
      return { revision: number, changed: true, config: next };
    }).then((outcome) => {
      if (outcome.changed) remember(db, outcome.revision, outcome.config);
      return outcome;
    }),
  );
}

import type { Tone } from "@/components/ui/badge";
import { ago } from "@/lib/format";
import type { Outputs } from "@/lib/trpc";

export type NodeRow = Outputs["nodes"]["list"][number];
export type LiveAnswer = Outputs["nodes"]["status"]["nodes"][number];

/** A node's health in one word (for its badge) and every reason behind it, worst first. */
export interface Health {
  word: string;
  tone: Tone;
  reasons: string[];
}

/** An agent call's failure without its "METHOD URL: " head: the same cause reads the same from any call. */
const cause = (text: string) => text.replace(/^.*?\b(?:GET|PUT|POST) \S+: /, "");

const RANK: Record<Tone, number> = { green: 0, blue: 0, gray: 1, amber: 2, red: 3 };

/**
 * Merges what the database remembers (last deploy error, applied revision, last seen) with what
 * the agent says right now, if it was asked: an agent that answers now is not "unreachable" even
 * if the last reconcile could not reach it, and one that does not answer is, whatever was stored.
 */
export function nodeHealth(node: NodeRow, live: LiveAnswer | undefined): Health {
  const reasons: string[] = [];
  let word = "in sync";
  let tone: Tone = "green";
  // The first reason of the worst kind names the badge.
  const worse = (w: string, t: Tone) => {
    if (RANK[t] > RANK[tone]) {
      word = w;
      tone = t;
    }
  };
  const applied = live?.ok === true ? live.value.appliedRevision : node.appliedRevision;
  const drift = live?.ok === true ? live.value.drift?.drifted === true : node.drift;

  if (live?.ok === false) {
    worse("unreachable", "red");
    reasons.push(live.error);
  }
  const sameCause = live?.ok === false && node.lastError !== null && cause(live.error) === cause(node.lastError);
  if (node.lastError !== null && !sameCause && !(live?.ok === true && applied === node.desiredRevision)) {
    worse("failing", "red");
    reasons.push(`last deploy failed: ${node.lastError}`);
  }
  if (live?.ok === true && live.value.lastError !== null) {
    worse("failing", "red");
    reasons.push(`the agent's last apply failed (${live.value.lastError.at}): ${live.value.lastError.message}`);
  }
  if (drift) {
    worse("drift", "red");
    reasons.push("the kernel's rules differ from what was deployed");
  }
  // upToDate compares hashes (a revision that changes none of the farms placed on a node is not
  // sent to it); an agent that says right now that it runs the latest revision is in step too.
  if (node.desiredRevision !== null && !node.upToDate && applied !== node.desiredRevision) {
    worse("out of date", "amber");
    reasons.push(`runs revision ${applied ?? "none"}, should run ${node.desiredRevision}`);
  }
  if (node.lastSeenAt === null && live?.ok !== true) {
    worse("never seen", "gray");
    reasons.push(`it has never answered since it was added ${ago(node.createdAt)}: start its agent with the command shown then`);
  }
  return { word, tone, reasons };
}

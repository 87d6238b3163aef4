"use client";
import { useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useRef, useState } from "react";
import { useTRPC, type Outputs } from "./trpc";

// Live deploy progress: the API's deployments.events subscription (server-sent events through
// the control plane), kept per revision and node, newest event winning. Each event also
// refreshes the deployment and node lists (at most every half second), so that what the
// tables show and what the bar shows never disagree for long.

export type DeploymentEvent = Outputs["deployments"]["events"] extends AsyncIterable<infer E> ? E : never;

export interface LiveDeploys {
  /** Latest event per node, of the newest revision an event was seen for. */
  revision: number | null;
  byNode: Map<string, DeploymentEvent>;
  /** "live" while the stream is open; "connecting" before and between tries; "error" when it failed. */
  connection: "live" | "connecting" | "error";
  error: string | null;
}

export function useDeploymentEvents(): LiveDeploys {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [live, setLive] = useState<{ revision: number | null; byNode: Map<string, DeploymentEvent> }>({ revision: null, byNode: new Map() });
  const refresh = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (refresh.current !== null) clearTimeout(refresh.current);
  }, []);

  const subscription = useSubscription(
    trpc.deployments.events.subscriptionOptions(undefined, {
      onData: (event) => {
        setLive((previous) => {
          if (previous.revision !== null && event.revision < previous.revision) return previous;
          const byNode = event.revision === previous.revision ? new Map(previous.byNode) : new Map<string, DeploymentEvent>();
          byNode.set(event.node, event);
          return { revision: event.revision, byNode };
        });
        refresh.current ??= setTimeout(() => {
          refresh.current = null;
          void queryClient.invalidateQueries({ queryKey: trpc.deployments.list.pathKey() });
          void queryClient.invalidateQueries({ queryKey: trpc.nodes.list.pathKey() });
        }, 500);
      },
    }),
  );
  const connection = subscription.status === "pending" ? "live" : subscription.status === "error" ? "error" : "connecting";
  return { ...live, connection, error: subscription.error?.message ?? null };
}

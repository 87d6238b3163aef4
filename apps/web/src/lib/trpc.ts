"use client";
import type { AppRouter } from "@switchyard/api";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import type { inferRouterOutputs } from "@trpc/server";

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/**
 * What each procedure answers, as the browser receives it: there is no transformer on the wire,
 * so the API's Date fields arrive as ISO strings (use `new Date(x)`; it takes both).
 */
export type Outputs = inferRouterOutputs<AppRouter>;

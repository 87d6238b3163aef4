"use client";
import { createContext, useContext } from "react";

export type Role = "viewer" | "operator" | "admin";
export interface Viewer {
  name: string;
  role: Role;
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export const ViewerContext = createContext<Viewer | null>(null);

/** The signed-in user (inside the app shell, always there). */
export function useViewer(): Viewer {
  const viewer = useContext(ViewerContext);
  if (viewer === null) throw new Error("useViewer outside the app shell");
  return viewer;
}

/**
 * Whether the signed-in user may do what needs `least`: the UI hides what they may not do.
 * The API checks the role on every call anyway.
 */
export function useCan(least: Role): boolean {
  return RANK[useViewer().role] >= RANK[least];
}

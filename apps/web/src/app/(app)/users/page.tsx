import type { Metadata } from "next";
import { UsersAndTokens } from "./users-and-tokens";

export const metadata: Metadata = { title: "Users & tokens" };

export default function UsersPage() {
  return <UsersAndTokens />;
}

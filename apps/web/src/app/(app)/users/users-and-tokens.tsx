"use client";
import { PageHeader } from "@/components/ui/card";
import { useCan } from "@/lib/viewer";
import { TokensCard } from "./tokens-card";
import { UsersCard } from "./users-card";

/** Who may sign in, and the tokens automation uses: admins only (the API refuses everyone else anyway). */
export function UsersAndTokens() {
  const admin = useCan("admin");
  if (!admin) {
    return (
      <>
        <PageHeader title="Users & tokens" />
        <p className="text-sm text-zinc-600 dark:text-zinc-400">Only admins manage users and API tokens.</p>
      </>
    );
  }
  return (
    <>
      <PageHeader title="Users & tokens" description="A role change or a disabled account ends that user's sessions at once." />
      <div className="space-y-4">
        <UsersCard />
        <TokensCard />
      </div>
    </>
  );
}

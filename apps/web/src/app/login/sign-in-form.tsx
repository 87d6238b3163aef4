"use client";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useRouter, useSearchParams } from "next/navigation";
import { useState, type FormEvent } from "react";
import { Button } from "@/components/ui/button";
import { ErrorNote } from "@/components/ui/card";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { fieldErrors } from "@/lib/errors";
import { useTRPC } from "@/lib/trpc";

/** Sign-in, or on a control plane without users yet, the first admin's setup. */
export function SignInForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const next = useSearchParams().get("next");
  const status = useQuery(trpc.auth.status.queryOptions());
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const done = () => router.replace(next !== null && next.startsWith("/") && !next.startsWith("//") ? next : "/");
  const login = useMutation(trpc.auth.login.mutationOptions({ onSuccess: done }));
  const setup = useMutation(trpc.auth.setup.mutationOptions({ onSuccess: done }));
  const needsSetup = status.data?.needsSetup === true;
  const action = needsSetup ? setup : login;
  const errors = fieldErrors(action.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    action.mutate({ username, password });
  };

  return (
    <form onSubmit={submit} className="mt-4 space-y-4" aria-label={needsSetup ? "Create the first admin" : "Sign in"}>
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        {needsSetup ? "No users yet. Create the first admin of this control plane." : "Sign in to manage farms, nodes and deploys."}
      </p>
      <Field label="Username" error={errors.username}>
        <Input name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />
      </Field>
      <Field label="Password" error={errors.password} hint={needsSetup ? "At least 10 characters." : undefined}>
        <Input name="password" type="password" autoComplete={needsSetup ? "new-password" : "current-password"} required value={password} onChange={(e) => setPassword(e.target.value)} />
      </Field>
      {action.isError && Object.keys(errors).length === 0 ? <ErrorNote error={action.error} /> : null}
      <Button type="submit" className="w-full" disabled={action.isPending}>
        {needsSetup ? "Create admin and sign in" : action.isPending ? "Signing in…" : "Sign in"}
      </Button>
    </form>
  );
}

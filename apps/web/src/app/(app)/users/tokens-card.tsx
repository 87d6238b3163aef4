"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, ErrorNote } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { CopyButton } from "@/components/ui/copy-button";
import { Dialog } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { FormActions } from "@/components/ui/form-actions";
import { Input, Select } from "@/components/ui/input";
import { RowTh, Table, THead, Th, Tr } from "@/components/ui/table";
import { fieldErrors } from "@/lib/errors";
import { ago, exact } from "@/lib/format";
import { useTRPC } from "@/lib/trpc";
import { useViewer, type Role } from "@/lib/viewer";
import { RoleField } from "./role-field";

export function TokensCard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.tokens.list.queryOptions());
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<{ id: number; name: string } | null>(null);
  const revoke = useMutation(
    trpc.tokens.revoke.mutationOptions({
      onSuccess: () => setRevoking(null),
      onSettled: () => void queryClient.invalidateQueries({ queryKey: trpc.tokens.list.pathKey() }),
    }),
  );
  return (
    <Card title="API tokens" actions={<Button size="sm" onClick={() => setCreating(true)}>Create token</Button>}>
      <p className="mb-3 text-sm text-zinc-600 dark:text-zinc-400">For automation: <span className="font-mono text-xs">Authorization: Bearer sy_…</span> on the REST API at <span className="font-mono text-xs">/api/v1</span>. A token acts as its owner, at its own role, never above the owner's.</p>
      {tokens.isError ? <ErrorNote error={tokens.error} /> : null}
      {tokens.data?.length === 0 ? <p className="text-sm text-zinc-500">No API tokens.</p> : (
        <Table caption="API tokens">
          <THead>
            <Th className="py-1 pr-4">Name</Th>
            <Th className="pr-4">Role</Th>
            <Th className="pr-4">Owner</Th>
            <Th className="pr-4">Created</Th>
            <Th className="pr-4">Last used</Th>
            <Th className="pr-4">Status</Th>
            <Th><span className="sr-only">Actions</span></Th>
          </THead>
          <tbody>
            {tokens.data?.map((t) => (
              <Tr key={t.id} className={t.revokedAt !== null ? "text-zinc-500" : undefined}>
                <RowTh className="py-1.5 pr-4">{t.name}</RowTh>
                <td className="pr-4">{t.role}</td>
                <td className="pr-4">{t.user.username}</td>
                <td className="pr-4" title={exact(t.createdAt)}>{ago(t.createdAt)}</td>
                <td className="pr-4" title={exact(t.lastUsedAt)}>{ago(t.lastUsedAt)}</td>
                <td className="pr-4">{t.revokedAt !== null ? <Badge tone="gray">revoked {ago(t.revokedAt)}</Badge> : <Badge tone="green">active</Badge>}</td>
                <td className="text-right">
                  {t.revokedAt === null ? (
                    <Button size="sm" variant="ghost" className="text-red-700 dark:text-red-400" onClick={() => setRevoking({ id: t.id, name: t.name })}>Revoke {t.name}</Button>
                  ) : null}
                </td>
              </Tr>
            ))}
          </tbody>
        </Table>
      )}
      <ConfirmDialog
        open={revoking !== null}
        onOpenChange={(open) => {
          if (!open) {
            setRevoking(null);
            revoke.reset();
          }
        }}
        title={`Revoke token “${revoking?.name ?? ""}”?`}
        confirmLabel="Revoke token"
        onConfirm={() => revoking !== null && revoke.mutate({ id: revoking.id })}
        pending={revoke.isPending}
        error={revoke.error}
      >
        Every request made with it is refused from now on. This cannot be undone: whatever uses it needs a new token.
      </ConfirmDialog>
      <CreateTokenDialog open={creating} onOpenChange={setCreating} />
    </Card>
  );
}

function CreateTokenDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useViewer();
  const users = useQuery(trpc.users.list.queryOptions(undefined, { enabled: open }));
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [owner, setOwner] = useState(me.name);
  const create = useMutation(trpc.tokens.create.mutationOptions({ onSettled: () => void queryClient.invalidateQueries({ queryKey: trpc.tokens.list.pathKey() }) }));
  const errors = fieldErrors(create.error);
  const close = () => {
    onOpenChange(false);
    setName("");
    setRole("viewer");
    setOwner(me.name);
    create.reset();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ name: name.trim(), role, owner });
  };
  const created = create.data;
  return (
    <Dialog open={open} onOpenChange={(next) => (next ? onOpenChange(true) : close())} title={created === undefined ? "Create an API token" : `Token “${name}” created`}>
      {created === undefined ? (
        <form onSubmit={submit} className="space-y-3" noValidate>
          <Field label="Name" error={errors.name} hint="What uses it, e.g. ci-deploy">
            <Input value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" required />
          </Field>
          <RoleField value={role} onChange={setRole} error={errors.role} />
          <Field label="Owner" error={errors.owner} hint="The token acts as this user, at most at their role">
            <Select value={owner} onChange={(e) => setOwner(e.target.value)}>
              {(users.data ?? [{ username: me.name, role: me.role, disabled: false }]).filter((u) => !u.disabled).map((u) => <option key={u.username} value={u.username}>{u.username} ({u.role})</option>)}
            </Select>
          </Field>
          {create.error !== null && Object.keys(errors).length === 0 ? <ErrorNote error={create.error} /> : null}
          <FormActions submitLabel="Create token" busyLabel="Creating…" busy={create.isPending} onCancel={close} />
        </form>
      ) : (
        <div className="space-y-3 text-sm">
          <p role="alert" className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200">
            <strong>The token is shown only now.</strong> Only its hash is kept: once this dialog is closed it cannot be shown again.
          </p>
          <div className="flex items-center gap-2">
            <Input readOnly value={created.token} aria-label="The new API token" className="font-mono text-xs" onFocus={(e) => e.currentTarget.select()} />
            <CopyButton text={created.token} label="Copy token" />
          </div>
          <div className="flex justify-end">
            <Button onClick={close}>I have saved the token</Button>
          </div>
        </div>
      )}
    </Dialog>
  );
}

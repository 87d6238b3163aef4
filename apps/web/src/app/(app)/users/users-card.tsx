"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, ErrorNote } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { Dialog } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { FormActions } from "@/components/ui/form-actions";
import { Input, Select } from "@/components/ui/input";
import { RowTh, Table, THead, Th, Tr } from "@/components/ui/table";
import { fieldErrors } from "@/lib/errors";
import { ago, exact } from "@/lib/format";
import { useTRPC } from "@/lib/trpc";
import { useViewer, type Role } from "@/lib/viewer";
import { RoleField, RoleOptions } from "./role-field";
import { ROLE_HINT } from "./roles";

type Pending = { username: string; role?: Role; disabled?: boolean } | null;

export function UsersCard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useViewer();
  const users = useQuery(trpc.users.list.queryOptions());
  const [adding, setAdding] = useState(false);
  const [pending, setPending] = useState<Pending>(null);
  const update = useMutation(
    trpc.users.update.mutationOptions({
      onSuccess: () => setPending(null),
      onSettled: () => void queryClient.invalidateQueries({ queryKey: trpc.users.list.pathKey() }),
    }),
  );
  const target = users.data?.find((u) => u.username === pending?.username);

  return (
    <Card title="Users" actions={<Button size="sm" onClick={() => setAdding(true)}>Add user</Button>}>
      {users.isError ? <ErrorNote error={users.error} /> : null}
      <Table caption="Users">
        <THead>
          <Th className="py-1 pr-4">User</Th>
          <Th className="pr-4">Role</Th>
          <Th className="pr-4">Status</Th>
          <Th className="pr-4">Added</Th>
          <Th><span className="sr-only">Actions</span></Th>
        </THead>
        <tbody>
          {users.data?.map((u) => {
            const self = u.username === me.name;
            return (
              <Tr key={u.id}>
                <RowTh className="py-1.5 pr-4">{u.username}{self ? <span className="font-normal text-zinc-500"> (you)</span> : null}</RowTh>
                <td className="pr-4">
                  {self ? (
                    u.role
                  ) : (
                    <Select aria-label={`Role of ${u.username}`} className="h-7 w-32 text-xs" value={u.role} onChange={(e) => setPending({ username: u.username, role: e.target.value as Role })}>
                      <RoleOptions />
                    </Select>
                  )}
                </td>
                <td className="pr-4">{u.disabled ? <Badge tone="red">disabled</Badge> : <Badge tone="green">active</Badge>}</td>
                <td className="pr-4" title={exact(u.createdAt)}>{ago(u.createdAt)}</td>
                <td className="text-right">
                  {self ? null : u.disabled ? (
                    <Button size="sm" variant="secondary" onClick={() => setPending({ username: u.username, disabled: false })}>Enable {u.username}</Button>
                  ) : (
                    <Button size="sm" variant="ghost" className="text-red-700 dark:text-red-400" onClick={() => setPending({ username: u.username, disabled: true })}>Disable {u.username}</Button>
                  )}
                </td>
              </Tr>
            );
          })}
        </tbody>
      </Table>
      <ConfirmDialog
        open={pending !== null}
        onOpenChange={(open) => {
          if (!open) {
            setPending(null);
            update.reset();
          }
        }}
        title={pending?.role !== undefined ? `Make ${pending.username} ${pending.role}?` : pending?.disabled ? `Disable ${pending.username}?` : `Enable ${pending?.username ?? ""}?`}
        confirmLabel={pending?.role !== undefined ? `Make ${pending.username} ${pending.role}` : pending?.disabled ? `Disable ${pending.username}` : `Enable ${pending?.username ?? ""}`}
        onConfirm={() => pending !== null && update.mutate(pending)}
        pending={update.isPending}
        error={update.error}
      >
        {pending?.role !== undefined
          ? `${pending.username} goes from ${target?.role ?? "?"} to ${pending.role} (${ROLE_HINT[pending.role]}). Their sessions end now; they sign in again. Their API tokens never act above their role.`
          : pending?.disabled
            ? `${pending.username} can no longer sign in and their sessions end now. Their API tokens stop working too. Their past changes stay in the history.`
            : `${pending?.username ?? ""} can sign in again with their password.`}
      </ConfirmDialog>
      <AddUserDialog open={adding} onOpenChange={setAdding} />
    </Card>
  );
}

function AddUserDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [username, setUsername] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [password, setPassword] = useState("");
  const add = useMutation(
    trpc.users.add.mutationOptions({
      onSuccess: () => close(),
      onSettled: () => void queryClient.invalidateQueries({ queryKey: trpc.users.list.pathKey() }),
    }),
  );
  const errors = fieldErrors(add.error);
  function close() {
    onOpenChange(false);
    setUsername("");
    setRole("viewer");
    setPassword("");
    add.reset();
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate({ username: username.trim(), role, password });
  };
  return (
    <Dialog open={open} onOpenChange={(next) => (next ? onOpenChange(true) : close())} title="Add a user" description="They sign in with this username and password.">
      <form onSubmit={submit} className="space-y-3" noValidate>
        <Field label="Username" error={errors.username}>
          <Input value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" required />
        </Field>
        <RoleField value={role} onChange={setRole} error={errors.role} />
        <Field label="Password" error={errors.password}>
          <Input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" required />
        </Field>
        {add.error !== null && Object.keys(errors).length === 0 ? <ErrorNote error={add.error} /> : null}
        <FormActions submitLabel="Add user" busyLabel="Adding…" busy={add.isPending} onCancel={close} />
      </form>
    </Dialog>
  );
}

"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { useTRPC } from "@/lib/trpc";
import { ChangeError } from "./change-error";

/** "Delete farm" and its confirmation; the farm can come back by a rollback in Revisions. */
export function DeleteFarmDialog({ name, baseRevision, onReload }: { name: string; baseRevision: number; onReload: () => void }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const remove = useMutation(
    trpc.farms.remove.mutationOptions({
      onSuccess: async (result) => {
        setOpen(false);
        await queryClient.invalidateQueries({ queryKey: trpc.farms.pathKey() });
        router.push(`/farms?deleted=${encodeURIComponent(name)}&revision=${result.revision}`);
      },
    }),
  );
  return (
    <>
      <Button type="button" variant="danger" onClick={() => (remove.reset(), setOpen(true))}>Delete farm</Button>
      <Dialog
        open={open}
        onOpenChange={setOpen}
        title={`Delete farm ${name}?`}
        description="Its rules leave every node with the next deploy: connections to its virtual address are no longer balanced. The deletion is a revision; rolling this farm back to an earlier revision brings it back."
      >
        {remove.isError ? (
          <div className="mb-3">
            <ChangeError
              error={remove.error}
              onReload={() => {
                setOpen(false);
                onReload();
              }}
            />
          </div>
        ) : null}
        <div className="flex justify-end gap-2">
          <Button type="button" variant="secondary" onClick={() => setOpen(false)}>Cancel</Button>
          <Button type="button" variant="danger" disabled={remove.isPending} onClick={() => remove.mutate({ name, baseRevision })}>
            {remove.isPending ? "Deleting…" : `Delete ${name}`}
          </Button>
        </div>
      </Dialog>
    </>
  );
}

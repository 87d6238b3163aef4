"use client";
import { FAMILIES, MODES, PROTOCOLS, SCHED_FIELDS, SCHEDULERS, type ConfigIssue, type State } from "@switchyard/core/schemas";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { Card, ErrorNote, PageHeader } from "@/components/ui/card";
import { Checkbox } from "@/components/ui/checkbox";
import { Field } from "@/components/ui/field";
import { Input, Select } from "@/components/ui/input";
import { cn } from "@/lib/cn";
import { errorData } from "@/lib/errors";
import { useTRPC } from "@/lib/trpc";
import { useCan } from "@/lib/viewer";
import { BackendsTable } from "./backends-table";
import { ChangeError } from "./change-error";
import { DeleteFarmDialog } from "./delete-farm-dialog";
import { checkForm, emptyBackend, emptyFarm, formOf, nftlbOf, placeIssues, type BackendRow, type FarmForm, type FieldErrors } from "./farm-form";
import { RulesetPreview } from "./ruleset-preview";
import { StateToggle } from "./state-toggle";

/** /farms/-/new (no name) or /farms/NAME: loads the farm, then edits it until reloaded. */
export function FarmEditor({ name }: { name?: string }) {
  const trpc = useTRPC();
  // The form starts from what was read and keeps its edits through background refetches; only
  // an explicit reload (after a conflict) starts it again.
  const farm = useQuery({ ...trpc.farms.get.queryOptions({ name: name ?? "" }), enabled: name !== undefined, staleTime: Infinity, refetchOnWindowFocus: false });
  const [generation, setGeneration] = useState(0);
  const reload = async () => {
    await farm.refetch();
    setGeneration((g) => g + 1);
  };

  if (name === undefined) return <EditorForm key={generation} initial={emptyFarm()} baseRevision={undefined} onReload={() => setGeneration((g) => g + 1)} />;
  if (farm.isPending) return <p className="text-sm text-zinc-500">Loading farm {name}…</p>;
  if (farm.isError) {
    return (
      <>
        <PageHeader title={name} />
        {errorData(farm.error).code === "NOT_FOUND" ? (
          <p className="text-sm">
            There is no farm named {name} (any more). <Link href="/farms" className="underline">All farms</Link>
          </p>
        ) : (
          <ErrorNote error={farm.error} />
        )}
      </>
    );
  }
  return <EditorForm key={generation} name={name} initial={formOf(farm.data.farm)} baseRevision={farm.data.revision} updatedRevision={farm.data.updatedRevision} onReload={() => void reload()} />;
}

type Attribute = Exclude<keyof FarmForm, "backends">;

function EditorForm({ name, initial, baseRevision, updatedRevision, onReload }: { name?: string; initial: FarmForm; baseRevision: number | undefined; updatedRevision?: number; onReload: () => void }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const canEdit = useCan("operator");
  const readOnly = !canEdit;
  const isNew = name === undefined;

  const [form, setForm] = useState(initial);
  /** What the server holds (as far as this page knows): what "unsaved changes" compares with. */
  const [saved, setSaved] = useState(initial);
  const [base, setBase] = useState(baseRevision);
  const [message, setMessage] = useState("");
  const [submitted, setSubmitted] = useState(false);
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const [notice, setNotice] = useState<string | null>(null);
  const [previewOf, setPreviewOf] = useState<{ name?: string; farm: Record<string, unknown> } | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  /** The form as last sent to be saved, and as last sent to be previewed (issues are placed by its rows). */
  const sentForm = useRef<FarmForm | null>(null);
  const previewedForm = useRef<FarmForm | null>(null);

  // A farm just created arrives here with ?created=REVISION: say so once, then drop it from the URL.
  useEffect(() => {
    const created = new URLSearchParams(window.location.search).get("created");
    if (created === null) return;
    setNotice(`Created as revision ${created}; deploying to the nodes.`);
    window.history.replaceState(null, "", window.location.pathname);
  }, []);

  const raw = useMemo(() => nftlbOf(form), [form]);
  const localErrors = useMemo(() => checkForm(form), [form]);
  const dirty = isNew || JSON.stringify(raw) !== JSON.stringify(nftlbOf(saved));
  const rowKey = (row: number) => form.backends[row]?.key ?? -1;
  const shown = (key: string, touchedKey = key): string | undefined => serverErrors[key] ?? (submitted || touched.has(touchedKey) ? localErrors[key] : undefined);
  const error = (attribute: string) => shown(attribute);
  const backendError = (row: number, attribute: string) => shown(`backends.${row}.${attribute}`, `backend:${rowKey(row)}:${attribute}`);
  const touch = (key: string) => setTouched((t) => (t.has(key) ? t : new Set(t).add(key)));
  const clearServer = (key: string) => setServerErrors((e) => (key in e || "" in e ? Object.fromEntries(Object.entries(e).filter(([k]) => k !== key && k !== "")) : e));

  const set = <K extends Attribute>(key: K, attribute: string, value: FarmForm[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    clearServer(attribute);
  };
  const setBackends = (update: (rows: BackendRow[]) => BackendRow[]) => setForm((f) => ({ ...f, backends: update(f.backends) }));

  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.farms.pathKey() });
  const refused = (err: unknown) => {
    const data = errorData(err) as { issues?: ConfigIssue[]; fields?: { field: string; message: string }[] };
    const placed = placeIssues(data.issues ?? [], form);
    for (const f of data.fields ?? []) placed[""] = placed[""] === undefined ? `${f.field}: ${f.message}` : `${placed[""]}; ${f.field}: ${f.message}`;
    setServerErrors(placed);
    focusFirstInvalid();
  };
  const focusFirstInvalid = () => requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>("[aria-invalid=true]")?.focus());

  const create = useMutation(
    trpc.farms.create.mutationOptions({
      onSuccess: async (result, input) => {
        await invalidate();
        const created = String(input.farm.name);
        router.push(`/farms/${encodeURIComponent(created)}?created=${result.revision}`);
      },
      onError: refused,
    }),
  );
  const replace = useMutation(
    trpc.farms.replace.mutationOptions({
      onSuccess: (result) => {
        // What was sent is what the server holds; its rows are saved backends now, under the
        // names they were saved with (edits made while it was saving stay unsaved).
        const sent = sentForm.current ?? form;
        const stored = { ...sent, backends: sent.backends.map((r) => ({ ...r, saved: r.name.trim() })) };
        const savedName = new Map(stored.backends.map((r) => [r.key, r.saved]));
        setSaved(stored);
        setForm((f) => ({ ...f, backends: f.backends.map((r) => (savedName.has(r.key) ? { ...r, saved: savedName.get(r.key) ?? null } : r)) }));
        // Only a revision this change made is known to hold this farm as the form has it (an
        // unchanged answer names the latest revision, which may hold someone else's change).
        if (result.changed) setBase(result.revision);
        setMessage("");
        setNotice(result.changed ? `Saved as revision ${result.revision}; deploying to the nodes.` : "Nothing to save: the farm is as stored.");
        void invalidate();
      },
      onError: refused,
    }),
  );
  const save = isNew ? create : replace;
  const toggle = useMutation(trpc.backends.setState.mutationOptions({ onSettled: () => void invalidate() }));
  const [toggling, setToggling] = useState<number | null>(null);

  const preview = useMutation(
    trpc.farms.preview.mutationOptions({
      onSuccess: (answer) => {
        if (answer.issues.length === 0) return;
        setServerErrors(placeIssues(answer.issues, previewedForm.current ?? form));
        focusFirstInvalid();
      },
    }),
  );

  const checked = (): boolean => {
    setSubmitted(true);
    setNotice(null);
    if (Object.keys(localErrors).length === 0) return true;
    focusFirstInvalid();
    return false;
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (readOnly || !checked()) return;
    sentForm.current = form;
    const why = message.trim() === "" ? {} : { message: message.trim() };
    if (isNew) create.mutate({ farm: raw, ...why });
    else replace.mutate({ name, farm: raw, ...(base !== undefined ? { baseRevision: base } : {}), ...why });
  };
  const runPreview = () => {
    if (!checked()) return;
    setServerErrors({});
    previewedForm.current = form;
    const input = { ...(name !== undefined ? { name } : {}), farm: raw };
    setPreviewOf(input);
    preview.mutate(input);
  };

  /** A saved backend's toggle saves at once (one revision); a row not saved yet only changes the form. */
  const setBackendState = (row: number, state: State) => {
    const backend = form.backends[row];
    if (backend === undefined) return;
    const apply = (rows: BackendRow[]) => rows.map((r) => (r.key === backend.key ? { ...r, state } : r));
    if (isNew || backend.saved === null || readOnly) {
      setBackends(apply);
      return;
    }
    setToggling(row);
    setNotice(null);
    toggle.mutate(
      { farm: name, name: backend.saved, state, ...(base !== undefined ? { baseRevision: base } : {}) },
      {
        onSuccess: (result) => {
          setBackends(apply);
          setSaved((s) => ({ ...s, backends: s.backends.map((r) => (r.saved === backend.saved ? { ...r, state } : r)) }));
          if (result.changed) setBase(result.revision);
          setNotice(result.changed ? `Backend ${backend.saved} set ${state} as revision ${result.revision}; deploying to the nodes.` : `Backend ${backend.saved} was ${state} already.`);
        },
        onSettled: () => setToggling(null),
      },
    );
  };

  const previewStale = previewOf !== null && JSON.stringify(previewOf.farm) !== JSON.stringify(raw);
  const general = serverErrors[""] ?? (submitted ? localErrors[""] : undefined);
  const hashed = form.scheduler === "hash" || form.scheduler === "symhash";

  return (
    <form
      ref={formRef}
      onSubmit={submit}
      noValidate
      aria-label={isNew ? "New farm" : `Farm ${name}`}
      // A reader's inputs are read-only (text can still be selected and copied): make them look so.
      className={cn("space-y-4", readOnly && "[&_input]:bg-zinc-100 [&_select]:bg-zinc-100 [&_select]:opacity-100 dark:[&_input]:bg-zinc-800 dark:[&_select]:bg-zinc-800")}
    >
      <PageHeader
        title={isNew ? "New farm" : (name ?? "")}
        description={
          isNew
            ? "A virtual service: an address, ports and protocol, balanced to backends. Saved as a new revision and deployed to every node."
            : `Last changed in revision ${updatedRevision ?? "?"}. Saving makes a new revision and deploys it to every node.`
        }
        actions={!isNew && canEdit && base !== undefined ? <DeleteFarmDialog name={name} baseRevision={base} onReload={onReload} /> : undefined}
      />
      {readOnly ? <p className="rounded-md border border-zinc-200 bg-zinc-50 px-3 py-2 text-sm dark:border-zinc-800 dark:bg-zinc-900">You can read this farm; changing it takes the operator role.</p> : null}
      {general !== undefined ? <p role="alert" className="text-sm text-red-700 dark:text-red-400">{general}</p> : null}

      <div className="grid gap-4 xl:grid-cols-2">
        <Card title="Service">
          <div className="grid gap-3 sm:grid-cols-2">
            <Field label="Name" error={error("name")} hint={isNew ? "Letters, digits, '_', '.', '-'; part of the rule names on the nodes." : "A farm's name cannot change."}>
              <Input value={form.name} readOnly={readOnly || !isNew} className="read-only:bg-zinc-100 dark:read-only:bg-zinc-800" onChange={(e) => set("name", "name", e.target.value)} onBlur={() => touch("name")} autoComplete="off" spellCheck={false} />
            </Field>
            <Field label="Family" error={error("family")}>
              <Select value={form.family} disabled={readOnly} onChange={(e) => set("family", "family", e.target.value as FarmForm["family"])}>
                {FAMILIES.map((f) => <option key={f} value={f}>{f}</option>)}
              </Select>
            </Field>
            <Field label="Virtual address" error={error("virtual-addr")} hint={form.family === "dual" ? "The IPv4 address." : undefined}>
              <Input value={form.virtualAddr} readOnly={readOnly} onChange={(e) => set("virtualAddr", "virtual-addr", e.target.value)} onBlur={() => touch("virtual-addr")} className="font-mono" placeholder={form.family === "ipv6" ? "2001:db8::10" : "198.18.1.10"} autoComplete="off" spellCheck={false} />
            </Field>
            {form.family === "dual" ? (
              <Field label="Virtual IPv6 address" error={error("virtual-addr6")}>
                <Input value={form.virtualAddr6} readOnly={readOnly} onChange={(e) => set("virtualAddr6", "virtual-addr6", e.target.value)} onBlur={() => touch("virtual-addr6")} className="font-mono" placeholder="2001:db8::10" autoComplete="off" spellCheck={false} />
              </Field>
            ) : null}
            <Field label="Virtual ports" error={error("virtual-ports")} hint="e.g. 80,443 or 8000-8100; empty: every port.">
              <Input value={form.virtualPorts} readOnly={readOnly} onChange={(e) => set("virtualPorts", "virtual-ports", e.target.value)} onBlur={() => touch("virtual-ports")} className="font-mono" autoComplete="off" spellCheck={false} />
            </Field>
            <Field label="Protocol" error={error("protocol")} hint={form.protocol === "all" ? "Every protocol and port of the address." : undefined}>
              <Select value={form.protocol} disabled={readOnly} onChange={(e) => set("protocol", "protocol", e.target.value as FarmForm["protocol"])}>
                {PROTOCOLS.map((p) => <option key={p} value={p}>{p}</option>)}
              </Select>
            </Field>
          </div>
        </Card>

        <Card title="Balancing">
          <div className="grid gap-3 sm:grid-cols-2">
            <Field label="Mode" error={error("mode")} hint={MODE_HINT[form.mode]}>
              <Select value={form.mode} disabled={readOnly} onChange={(e) => set("mode", "mode", e.target.value as FarmForm["mode"])}>
                {MODES.map((m) => <option key={m} value={m}>{m}</option>)}
              </Select>
            </Field>
            <Field label="Scheduler" error={error("scheduler")} hint={SCHEDULER_HINT[form.scheduler]}>
              <Select value={form.scheduler} disabled={readOnly} onChange={(e) => set("scheduler", "scheduler", e.target.value as FarmForm["scheduler"])}>
                {SCHEDULERS.map((s) => <option key={s} value={s}>{s}</option>)}
              </Select>
            </Field>
            {hashed || form.schedParam.length > 0 ? (
              <fieldset className="sm:col-span-2" aria-describedby={error("sched-param") !== undefined ? "sched-param-error" : undefined}>
                <legend className="text-sm font-medium text-zinc-800 dark:text-zinc-200">Hash fields</legend>
                <div className="mt-1 flex flex-wrap gap-3">
                  {SCHED_FIELDS.map((f) => (
                    <label key={f} className="flex items-center gap-1.5 text-sm">
                      <Checkbox
                        checked={form.schedParam.includes(f)}
                        disabled={readOnly}
                        onCheckedChange={(on) => set("schedParam", "sched-param", on === true ? SCHED_FIELDS.filter((x) => x === f || form.schedParam.includes(x)) : form.schedParam.filter((x) => x !== f))}
                      />
                      {f}
                    </label>
                  ))}
                </div>
                {error("sched-param") !== undefined ? (
                  <p id="sched-param-error" role="alert" className="mt-1 text-xs text-red-600 dark:text-red-400">{error("sched-param")}</p>
                ) : (
                  <p className="mt-1 text-xs text-zinc-500">None: the source address.</p>
                )}
              </fieldset>
            ) : null}
            <Field label="Priority" error={error("priority")} hint="Backends of this priority or lower take connections; when none of them is up, the next priority does.">
              <Input value={form.priority} readOnly={readOnly} inputMode="numeric" onChange={(e) => set("priority", "priority", e.target.value)} onBlur={() => touch("priority")} />
            </Field>
            <div className="space-y-1">
              <span className="block text-sm font-medium text-zinc-800 dark:text-zinc-200" id="farm-state-label">State</span>
              <StateToggle label="State" value={form.state} disabled={readOnly} onChange={(state) => set("state", "state", state)} />
              {error("state") !== undefined ? <p role="alert" className="text-xs text-red-600 dark:text-red-400">{error("state")}</p> : <p className="text-xs text-zinc-500">Down or off: no rules on the nodes.</p>}
            </div>
          </div>
        </Card>
      </div>

      <Card title="Interfaces" className={form.mode === "dsr" ? undefined : "opacity-90"}>
        <div className="grid gap-3 sm:grid-cols-3">
          <Field label="Input interface" error={error("iface")} hint={form.mode === "dsr" ? "Required in dsr mode: where the virtual address arrives." : "Used in dsr mode."}>
            <Input value={form.iface} readOnly={readOnly} onChange={(e) => set("iface", "iface", e.target.value)} onBlur={() => touch("iface")} className="font-mono" placeholder="eth0" autoComplete="off" spellCheck={false} />
          </Field>
          <Field label="Output interface" error={error("oface")} hint="dsr: where frames leave; empty: the input interface.">
            <Input value={form.oface} readOnly={readOnly} onChange={(e) => set("oface", "oface", e.target.value)} onBlur={() => touch("oface")} className="font-mono" autoComplete="off" spellCheck={false} />
          </Field>
          <Field label="MAC address" error={error("ether-addr")} hint="dsr: the output interface's; empty: the node reports it.">
            <Input value={form.etherAddr} readOnly={readOnly} onChange={(e) => set("etherAddr", "ether-addr", e.target.value)} onBlur={() => touch("ether-addr")} className="font-mono" placeholder="02:00:00:00:00:0a" autoComplete="off" spellCheck={false} />
          </Field>
        </div>
      </Card>

      <Card title="Placement">
        <Field label="Node labels" error={error("x-placement")} hint="The labels a node needs to get this farm, e.g. role=edge,zone=a (every one must match); empty: every node.">
          <Input value={form.placement} readOnly={readOnly} onChange={(e) => set("placement", "x-placement", e.target.value)} onBlur={() => touch("x-placement")} className="font-mono" placeholder="every node" autoComplete="off" spellCheck={false} />
        </Field>
      </Card>

      {Object.keys(form.other).length > 0 ? (
        <Card title="Other attributes">
          <p className="mb-2 text-xs text-zinc-500">Not edited here; saving keeps them as they are.</p>
          <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 font-mono text-xs">
            {Object.entries(form.other).map(([key, value]) => (
              <div key={key} className="contents">
                <dt className="text-zinc-600 dark:text-zinc-400">{key}</dt>
                <dd>{typeof value === "string" ? value : JSON.stringify(value)}</dd>
              </div>
            ))}
          </dl>
        </Card>
      ) : null}

      <Card
        title={`Backends (${form.backends.length})`}
        actions={readOnly ? undefined : <Button type="button" variant="secondary" size="sm" onClick={() => setBackends((rows) => [...rows, emptyBackend(rows)])}>Add backend</Button>}
      >
        {error("backends") !== undefined ? <p role="alert" className="mb-2 text-xs text-red-600 dark:text-red-400">{error("backends")}</p> : null}
        {!isNew && !readOnly ? <p className="mb-2 text-xs text-zinc-500">A saved backend&apos;s state toggle saves at once, as a revision of its own.</p> : null}
        <BackendsTable
          rows={form.backends}
          errors={backendError}
          readOnly={readOnly}
          dsr={form.mode === "dsr"}
          busyRow={toggling}
          onChange={(row, field, value) => {
            setBackends((rows) => rows.map((r, i) => (i === row ? { ...r, [field]: value } : r)));
            clearServer(`backends.${row}.${BACKEND_ATTRIBUTE[field]}`);
          }}
          onBlur={(row, attribute) => touch(`backend:${rowKey(row)}:${attribute}`)}
          onState={setBackendState}
          onRemove={(row) => {
            setBackends((rows) => rows.filter((_, i) => i !== row));
            setServerErrors({});
          }}
        />
        {toggle.isError ? <div className="mt-2"><ChangeError error={toggle.error} onReload={onReload} /></div> : null}
      </Card>

      {readOnly ? null : (
        <div className="rounded-lg border border-zinc-200 bg-white px-4 py-3 dark:border-zinc-800 dark:bg-zinc-900">
          <div className="flex flex-wrap items-end gap-3">
            <div className="min-w-64 flex-1">
              <Field label="Change message" hint="Optional: why, for the revision history.">
                <Input value={message} onChange={(e) => setMessage(e.target.value)} maxLength={1000} />
              </Field>
            </div>
            <Button type="button" variant="secondary" onClick={runPreview} disabled={preview.isPending}>
              {preview.isPending ? "Rendering…" : "Preview"}
            </Button>
            <Button type="submit" disabled={save.isPending || !dirty}>
              {save.isPending ? "Saving…" : isNew ? "Save" : dirty ? "Save" : "Saved"}
            </Button>
          </div>
          <Status>
            {save.isError && errorData(save.error).conflict ? <ChangeError error={save.error} onReload={onReload} reloadLabel="Reload (drops your edits)" /> : null}
            {save.isError && !errorData(save.error).conflict && Object.keys(serverErrors).length === 0 ? <ErrorNote error={save.error} /> : null}
            {save.isError && Object.keys(serverErrors).length > 0 ? <p className="text-sm text-red-700 dark:text-red-400">Not saved: the server refused it; the reasons are under the fields.</p> : null}
            {submitted && Object.keys(localErrors).length > 0 ? <p className="text-sm text-red-700 dark:text-red-400">Not sent: {Object.keys(localErrors).length} field{Object.keys(localErrors).length === 1 ? "" : "s"} to fix, marked below each one.</p> : null}
            {notice !== null ? <p className="text-sm text-green-800 dark:text-green-300">{notice}</p> : null}
            {!isNew && dirty && notice === null && !save.isError ? <p className="text-sm text-amber-800 dark:text-amber-300">Unsaved changes.</p> : null}
          </Status>
        </div>
      )}

      {previewOf !== null ? <RulesetPreview preview={preview.data} stale={previewStale} loading={preview.isPending} /> : null}
      {preview.isError ? <ErrorNote error={preview.error} /> : null}
    </form>
  );
}

const BACKEND_ATTRIBUTE: Record<string, string> = { name: "name", ipAddr: "ip-addr", port: "port", weight: "weight", priority: "priority", etherAddr: "ether-addr" };

const MODE_HINT: Record<FarmForm["mode"], string> = {
  snat: "Destination and source rewritten: replies come back through the balancer.",
  dnat: "Destination rewritten: backends must route replies through the balancer.",
  dsr: "Direct server return: frames forwarded unchanged; backends answer the client themselves.",
};

const SCHEDULER_HINT: Record<FarmForm["scheduler"], string> = {
  rr: "In turn over the backends that are up; weights are ignored.",
  weight: "At random, in proportion to the weights.",
  hash: "By a hash of the fields below: a client keeps its backend.",
  symhash: "By a hash that is the same in both directions.",
};

function Status({ children }: { children: ReactNode }) {
  return (
    <div role="status" aria-live="polite" className="mt-2 space-y-2 empty:hidden">
      {children}
    </div>
  );
}

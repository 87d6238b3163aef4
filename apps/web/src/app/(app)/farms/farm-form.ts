import { SCHED_FIELDS, safeParseConfig, type ConfigIssue, type Family, type Mode, type Protocol, type SchedField, type Scheduler, type State } from "@switchyard/core/schemas";

// The farm editor's values (strings, as typed), the nftlb object they make (what the API takes
// and what core's schemas check, in the browser before any request and on the server again),
// and where each of core's issues goes in the form.

export interface BackendRow {
  /** React's key for the row (rows move when one above is removed). */
  key: number;
  /** The backend's name on the server, for a row that came from there (its state toggles save at once). */
  saved: string | null;
  name: string;
  ipAddr: string;
  port: string;
  weight: string;
  priority: string;
  state: State;
  etherAddr: string;
  /** Attributes this form does not edit, kept as they were (an attribute added to the model after this form). */
  other: Record<string, unknown>;
}

export interface FarmForm {
  name: string;
  family: Family;
  virtualAddr: string;
  virtualAddr6: string;
  virtualPorts: string;
  protocol: Protocol;
  mode: Mode;
  scheduler: Scheduler;
  schedParam: SchedField[];
  priority: string;
  state: State;
  iface: string;
  oface: string;
  etherAddr: string;
  /** x-placement: the node labels a node needs to get this farm (empty: every node). */
  placement: string;
  backends: BackendRow[];
  /** Attributes this form does not edit, kept as they were. */
  other: Record<string, unknown>;
}

let nextKey = 1;

export function emptyBackend(rows: readonly BackendRow[]): BackendRow {
  const taken = new Set(rows.map((r) => r.name));
  let n = rows.length + 1;
  while (taken.has(`b${n}`)) n++;
  return { key: nextKey++, saved: null, name: `b${n}`, ipAddr: "", port: "", weight: "1", priority: "1", state: "up", etherAddr: "", other: {} };
}

/** A new farm: the model's defaults (FarmSchema's), no backends yet. */
export function emptyFarm(): FarmForm {
  return {
    name: "",
    family: "ipv4",
    virtualAddr: "",
    virtualAddr6: "",
    virtualPorts: "",
    protocol: "tcp",
    mode: "snat",
    scheduler: "rr",
    schedParam: [],
    priority: "1",
    state: "up",
    iface: "",
    oface: "",
    etherAddr: "",
    placement: "",
    backends: [],
    other: {},
  };
}

const FARM_ATTRIBUTES = ["name", "family", "virtual-addr", "virtual-addr6", "virtual-ports", "protocol", "mode", "scheduler", "sched-param", "priority", "state", "iface", "oface", "ether-addr", "x-placement", "backends"];
const BACKEND_ATTRIBUTES = ["name", "ip-addr", "port", "weight", "priority", "state", "ether-addr"];

const others = (object: Record<string, unknown>, known: readonly string[]) => Object.fromEntries(Object.entries(object).filter(([key]) => !known.includes(key)));

const str = (value: unknown, fallback = ""): string => (typeof value === "string" ? value : typeof value === "number" ? String(value) : fallback);

/** The form of a farm as the API returns it (nftlb's form: every value a string, defaults spelled out). */
export function formOf(farm: Record<string, unknown>): FarmForm {
  const backends = Array.isArray(farm.backends) ? (farm.backends as Record<string, unknown>[]) : [];
  const schedParam = str(farm["sched-param"]).split(/[\s,]+/);
  return {
    name: str(farm.name),
    family: str(farm.family, "ipv4") as Family,
    virtualAddr: str(farm["virtual-addr"]),
    virtualAddr6: str(farm["virtual-addr6"]),
    virtualPorts: str(farm["virtual-ports"]),
    protocol: str(farm.protocol, "tcp") as Protocol,
    mode: str(farm.mode, "snat") as Mode,
    scheduler: str(farm.scheduler, "rr") as Scheduler,
    schedParam: SCHED_FIELDS.filter((f) => schedParam.includes(f)),
    priority: str(farm.priority, "1"),
    state: str(farm.state, "up") as State,
    iface: str(farm.iface),
    oface: str(farm.oface),
    etherAddr: str(farm["ether-addr"]),
    placement: str(farm["x-placement"]),
    backends: backends.map((b) => ({
      key: nextKey++,
      saved: str(b.name),
      name: str(b.name),
      ipAddr: str(b["ip-addr"]),
      port: str(b.port),
      weight: str(b.weight, "1"),
      priority: str(b.priority, "1"),
      state: str(b.state, "up") as State,
      etherAddr: str(b["ether-addr"]),
      other: others(b, BACKEND_ATTRIBUTES),
    })),
    other: others(farm, FARM_ATTRIBUTES),
  };
}

/** The nftlb object of the form: what the API's create, replace and preview take. */
export function nftlbOf(form: FarmForm): Record<string, unknown> {
  const optional = (key: string, value: string) => (value.trim() === "" ? {} : { [key]: value.trim() });
  return {
    ...form.other,
    name: form.name.trim(),
    family: form.family,
    "virtual-addr": form.virtualAddr.trim(),
    ...(form.family === "dual" ? { "virtual-addr6": form.virtualAddr6.trim() } : {}),
    "virtual-ports": form.virtualPorts.trim(),
    protocol: form.protocol,
    mode: form.mode,
    scheduler: form.scheduler,
    "sched-param": form.schedParam.length === 0 ? "none" : form.schedParam.join(" "),
    priority: form.priority.trim(),
    state: form.state,
    ...optional("iface", form.iface),
    ...optional("oface", form.oface),
    ...optional("ether-addr", form.etherAddr),
    ...optional("x-placement", form.placement),
    backends: form.backends.map((b) => ({
      ...b.other,
      name: b.name.trim(),
      "ip-addr": b.ipAddr.trim(),
      port: b.port.trim(),
      weight: b.weight.trim(),
      priority: b.priority.trim(),
      state: b.state,
      ...optional("ether-addr", b.etherAddr),
    })),
  };
}

/** A field's place in the form: a farm attribute ("virtual-addr") or a backend's ("backends.1.ip-addr"). */
export type FieldErrors = Record<string, string>;

/**
 * Core's issues (which name the backend, not its row) placed under their fields. An issue for a
 * field the form does not show (or for no field) goes under "" to be shown above the form.
 */
export function placeIssues(issues: readonly ConfigIssue[], form: FarmForm): FieldErrors {
  const out: FieldErrors = {};
  const put = (key: string, message: string) => {
    out[key] = out[key] === undefined ? message : out[key].includes(message) ? out[key] : `${out[key]}; ${message}`;
  };
  for (const issue of issues) {
    const field = issue.field.split(".")[0] ?? "";
    if (issue.backend === undefined) {
      put(FARM_FIELDS.has(field) ? field : "", FARM_FIELDS.has(field) ? issue.message : `${issue.field || "farm"}: ${issue.message}`);
      continue;
    }
    const row = rowOf(issue, form.backends);
    if (row < 0 || !BACKEND_FIELDS.has(field)) put("", `backend ${issue.backend}, ${issue.field}: ${issue.message}`);
    else put(`backends.${row}.${field}`, issue.message);
  }
  return out;
}

const FARM_FIELDS = new Set(FARM_ATTRIBUTES);
const BACKEND_FIELDS = new Set(BACKEND_ATTRIBUTES);

function rowOf(issue: ConfigIssue, rows: readonly BackendRow[]): number {
  const numbered = /^#(\d+)$/.exec(issue.backend ?? "");
  if (numbered) return Number(numbered[1]) - 1;
  const name = issue.backend ?? "";
  // Of two rows of one name, the duplicate is the later one.
  if (issue.field === "name" && /duplicate/.test(issue.message)) return rows.findLastIndex((r) => r.name.trim() === name);
  return rows.findIndex((r) => r.name.trim() === name);
}

/** The form checked with core's schemas, as the API will check it (but for the checks across farms). */
export function checkForm(form: FarmForm): FieldErrors {
  const parsed = safeParseConfig({ farms: [nftlbOf(form)] });
  return parsed.ok ? {} : placeIssues(parsed.issues, form);
}

// bench/probe/heap-summary.mjs: what a V8 heap snapshot (.heapsnapshot) holds, in text.
//   node --max-old-space-size=8000 bench/probe/heap-summary.mjs FILE [--depth 6] [--min-mb 0.5]
// Prints the self size by node type and by constructor, then the dominator tree (what each
// object keeps alive: its retained size) from the GC roots down, for subtrees above --min-mb.
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
const file = args[0];
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const DEPTH = opt("--depth", 7);
const MIN = opt("--min-mb", 0.5) * 1024 * 1024;

const snap = JSON.parse(readFileSync(file, "utf8"));
const meta = snap.snapshot.meta;
const NF = meta.node_fields.length;
const EF = meta.edge_fields.length;
const nodeTypes = meta.node_types[0];
const edgeTypes = meta.edge_types[0];
const nTypeOff = meta.node_fields.indexOf("type");
const nNameOff = meta.node_fields.indexOf("name");
const nSizeOff = meta.node_fields.indexOf("self_size");
const nEdgesOff = meta.node_fields.indexOf("edge_count");
const eTypeOff = meta.edge_fields.indexOf("type");
const eNameOff = meta.edge_fields.indexOf("name_or_index");
const eToOff = meta.edge_fields.indexOf("to_node");
const nodes = snap.nodes;
const edges = snap.edges;
const strings = snap.strings;
const N = nodes.length / NF;

const firstEdge = new Uint32Array(N + 1);
for (let i = 0, e = 0; i < N; i++) {
  firstEdge[i] = e;
  e += nodes[i * NF + nEdgesOff] * EF;
  firstEdge[i + 1] = e;
}
const type = (i) => nodeTypes[nodes[i * NF + nTypeOff]];
const name = (i) => strings[nodes[i * NF + nNameOff]];
const size = (i) => nodes[i * NF + nSizeOff];
const mb = (b) => `${(b / 1024 / 1024).toFixed(2)} MB`;

// Self sizes by type and by constructor name.
const byType = new Map();
const byCtor = new Map();
let total = 0;
for (let i = 0; i < N; i++) {
  const t = type(i);
  const s = size(i);
  total += s;
  const bt = byType.get(t) ?? { n: 0, s: 0 };
  bt.n++;
  bt.s += s;
  byType.set(t, bt);
  const key = t === "object" || t === "closure" || t === "hidden" || t === "array" || t === "code" ? `${t}:${name(i).slice(0, 60)}` : t;
  const bc = byCtor.get(key) ?? { n: 0, s: 0 };
  bc.n++;
  bc.s += s;
  byCtor.set(key, bc);
}
console.log(`${N} nodes, ${mb(total)} self size in all`);
console.log("\nby type:");
for (const [t, v] of [...byType].sort((a, b) => b[1].s - a[1].s)) console.log(`  ${mb(v.s).padStart(10)} ${String(v.n).padStart(9)}  ${t}`);
console.log("\nby type:name (top 40):");
for (const [t, v] of [...byCtor].sort((a, b) => b[1].s - a[1].s).slice(0, 40)) console.log(`  ${mb(v.s).padStart(10)} ${String(v.n).padStart(9)}  ${t}`);

// Dominators (Cooper, Harvey, Kennedy) over the graph from node 0 (the synthetic root),
// ignoring weak edges as V8's own tools do.
const isWeak = (e) => edgeTypes[edges[e + eTypeOff]] === "weak";
const order = new Int32Array(N).fill(-1); // post-order number
const post = new Uint32Array(N);
{
  let count = 0;
  const stack = new Uint32Array(N);
  const cursor = new Uint32Array(N);
  const seen = new Uint8Array(N);
  let sp = 0;
  stack[sp++] = 0;
  seen[0] = 1;
  cursor[0] = firstEdge[0];
  while (sp > 0) {
    const v = stack[sp - 1];
    let pushed = false;
    while (cursor[v] < firstEdge[v + 1]) {
      const e = cursor[v];
      cursor[v] += EF;
      if (isWeak(e)) continue;
      const w = edges[e + eToOff] / NF;
      if (seen[w]) continue;
      seen[w] = 1;
      cursor[w] = firstEdge[w];
      stack[sp++] = w;
      pushed = true;
      break;
    }
    if (!pushed) {
      sp--;
      order[v] = count;
      post[count++] = v;
    }
  }
  var reachable = count;
}
// Predecessors.
const predCount = new Uint32Array(N + 1);
for (let v = 0; v < N; v++) {
  if (order[v] < 0) continue;
  for (let e = firstEdge[v]; e < firstEdge[v + 1]; e += EF) {
    if (isWeak(e)) continue;
    predCount[edges[e + eToOff] / NF + 1]++;
  }
}
for (let i = 0; i < N; i++) predCount[i + 1] += predCount[i];
const preds = new Uint32Array(predCount[N]);
const fill = predCount.slice();
for (let v = 0; v < N; v++) {
  if (order[v] < 0) continue;
  for (let e = firstEdge[v]; e < firstEdge[v + 1]; e += EF) {
    if (isWeak(e)) continue;
    const w = edges[e + eToOff] / NF;
    preds[fill[w]++] = v;
  }
}
const idom = new Int32Array(N).fill(-1);
idom[0] = 0;
const rootOrder = order[0];
let changed = true;
while (changed) {
  changed = false;
  for (let k = reachable - 1; k >= 0; k--) {
    const v = post[k];
    if (v === 0) continue;
    let d = -1;
    for (let p = predCount[v]; p < predCount[v + 1]; p++) {
      const u = preds[p];
      if (idom[u] < 0) continue;
      if (d < 0) d = u;
      else {
        let a = u;
        let b = d;
        while (a !== b) {
          while (order[a] < order[b]) a = idom[a];
          while (order[b] < order[a]) b = idom[b];
        }
        d = a;
      }
    }
    if (d >= 0 && idom[v] !== d) {
      idom[v] = d;
      changed = true;
    }
  }
}
void rootOrder;
const retained = new Float64Array(N);
for (let k = 0; k < reachable; k++) {
  const v = post[k];
  retained[v] += size(v);
  if (v !== 0) retained[idom[v]] += retained[v];
}
const children = new Map();
for (let v = 1; v < N; v++) {
  if (idom[v] < 0) continue;
  const list = children.get(idom[v]) ?? [];
  list.push(v);
  children.set(idom[v], list);
}
function edgeName(from, to) {
  for (let e = firstEdge[from]; e < firstEdge[from + 1]; e += EF) {
    if (edges[e + eToOff] / NF === to) {
      const t = edgeTypes[edges[e + eTypeOff]];
      const n = edges[e + eNameOff];
      return t === "element" || t === "hidden" ? `[${n}]` : String(strings[n]);
    }
  }
  return "~";
}
function label(v) {
  const t = type(v);
  const n = name(v);
  if (t === "string" || t === "concatenated string" || t === "sliced string") return `${t} ${JSON.stringify(n.slice(0, 50))}`;
  return `${t} ${n.slice(0, 60)}`;
}
console.log(`\ndominator tree (retained ≥ ${mb(MIN)}, depth ≤ ${DEPTH}); reachable ${mb(retained[0])}:`);
function show(v, depth, via) {
  console.log(`${"  ".repeat(depth)}${mb(retained[v]).padStart(10)}  ${via} → ${label(v)} (self ${size(v)}, #${v})`);
  if (depth >= DEPTH) return;
  const kids = (children.get(v) ?? []).filter((c) => retained[c] >= MIN).sort((a, b) => retained[b] - retained[a]);
  for (const c of kids.slice(0, 12)) show(c, depth + 1, edgeName(v, c));
  // Many small children of one kind: summarise them.
  const small = (children.get(v) ?? []).filter((c) => retained[c] < MIN);
  if (small.length > 50) {
    const groups = new Map();
    for (const c of small) {
      const k = label(c).replace(/".*"/, '"…"');
      const g = groups.get(k) ?? { n: 0, s: 0 };
      g.n++;
      g.s += retained[c];
      groups.set(k, g);
    }
    for (const [k, g] of [...groups].sort((a, b) => b[1].s - a[1].s).slice(0, 4)) {
      if (g.s >= MIN) console.log(`${"  ".repeat(depth + 1)}${mb(g.s).padStart(10)}  ${g.n} × ${k}`);
    }
  }
}
show(0, 0, "root");
if (args.includes("--root-kids")) {
  const kids = (children.get(0) ?? []);
  const groups = new Map();
  for (const c of kids) {
    const k = label(c).replace(/".*"/, '"…"');
    const g = groups.get(k) ?? { n: 0, s: 0 };
    g.n++;
    g.s += retained[c];
    groups.set(k, g);
  }
  console.log(`\nroot's dominated children: ${kids.length}`);
  for (const [k, g] of [...groups].sort((a, b) => b[1].s - a[1].s).slice(0, 30)) console.log(`  ${mb(g.s).padStart(10)} ${String(g.n).padStart(8)} × ${k}`);
}
if (args.includes("--by-owner")) {
  // Each node under the name of the property (or map/WeakMap) through which something holds
  // it: the first non-weak referrer's edge, walking up through arrays and their element stores.
  const firstPred = new Int32Array(N).fill(-1);
  const firstEdgeOf = new Int32Array(N).fill(-1);
  for (let v = 0; v < N; v++) {
    for (let e = firstEdge[v]; e < firstEdge[v + 1]; e += EF) {
      const t = edgeTypes[edges[e + eTypeOff]];
      if (t === "weak") continue;
      const w = edges[e + eToOff] / NF;
      // Prefer a referrer that is not a system object, a code object or a root.
      const pt = type(v);
      if (firstPred[w] < 0 || ((type(firstPred[w]) === "hidden" || type(firstPred[w]) === "code" || firstPred[w] === 0) && pt !== "hidden" && pt !== "code")) {
        firstPred[w] = v;
        firstEdgeOf[w] = e;
      }
    }
  }
  const edgeLabel = (e) => {
    const t = edgeTypes[edges[e + eTypeOff]];
    const n = edges[e + eNameOff];
    return t === "element" ? "[]" : t === "hidden" ? "[h]" : String(strings[n]);
  };
  const ownerKey = (v) => {
    const path = [];
    let cur = v;
    for (let hops = 0; hops < 6; hops++) {
      const p = firstPred[cur];
      if (p < 0) break;
      const el = edgeLabel(firstEdgeOf[cur]);
      const pl = type(p) === "object" ? name(p) : type(p) === "array" ? `arr${name(p) ? ":" + name(p) : ""}` : type(p);
      path.push(`${pl}.${el}`);
      if (!(el === "[]" || el === "elements" || el === "[h]" || el === "table" || el === "properties" || el === "first" || el === "second" || el === "value" || el === "key" || /^\d+$/.test(el)) ) break;
      cur = p;
    }
    return path.reverse().join(" > ");
  };
  const groups = new Map();
  for (let v = 1; v < N; v++) {
    const t = type(v);
    if (t === "code" || t === "closure" || t === "native" || t === "synthetic" || (t === "hidden" && name(v) !== "system / PropertyArray")) continue;
    const k = `${t === "object" ? name(v) : t}  ⟵  ${ownerKey(v)}`;
    const g = groups.get(k) ?? { n: 0, s: 0 };
    g.n++;
    g.s += size(v);
    groups.set(k, g);
  }
  console.log("\nby holder (self sizes):");
  for (const [k, g] of [...groups].sort((a, b) => b[1].s - a[1].s).slice(0, Number(opt("--top", 60)))) console.log(`  ${mb(g.s).padStart(10)} ${String(g.n).padStart(8)}  ${k.slice(0, 200)}`);
}

// bench/probe/element-counters.ts: what one read of the traffic sets' per-element counters
// costs through the agent's netlink dumper (packages/agent/src/nft/netlink/elements.ts): 8
// sets of the traffic sets' shapes holding N elements in all (default 40,000, 4 backends at
// 10,000 farms), spread evenly, and then with most of them in one set (the kernel walks a
// hash set from its start again for each 32 KiB part of a dump, so one big set costs more
// than the same elements in several). Root, inside a scratch namespace:
//   ip netns add sy-ec-x && ip netns exec sy-ec-x node --import tsx bench/probe/element-counters.ts [N]; ip netns del sy-ec-x
import { execFileSync } from "node:child_process";
import { openElementCounterDumper } from "../../packages/agent/src/nft/netlink/elements.ts";

const here = execFileSync("ip", ["netns", "identify", String(process.pid)], { encoding: "utf8" }).trim();
if (!here.startsWith("sy-")) throw new Error(`run me inside a scratch network namespace named sy-* (here: ${JSON.stringify(here)}); I load a ruleset`);

const N = Number(process.argv[2] ?? 40_000);
const ROUNDS = 9;
const TABLE = "sy_ec";
const PORTS4 = "ipv4_addr . inet_proto . inet_service . ipv4_addr . inet_service";
const PORTS6 = "ipv6_addr . inet_proto . inet_service . ipv6_addr . inet_service";
const v4 = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const v6 = (i: number) => `2001:db8::${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}`;
/** The 8 sets: the six traffic set shapes, and two more port sets (hash sets hold most backends). */
const SHAPES: { name: string; type: string; interval: boolean; element: (i: number) => string }[] = [
  { name: "traffic4-ports", type: PORTS4, interval: false, element: (i) => `${v4(i)} . tcp . 80 . ${v4(i + 1)} . 8080` },
  { name: "traffic4-ports-b", type: PORTS4, interval: false, element: (i) => `${v4(i)} . udp . 53 . ${v4(i + 1)} . 53` },
  { name: "traffic4-ranges", type: PORTS4, interval: true, element: (i) => `${v4(i)} . tcp . 1000-2000 . ${v4(i + 1)} . 1000-2000` },
  { name: "traffic4-addr", type: "ipv4_addr . ipv4_addr", interval: false, element: (i) => `${v4(i)} . ${v4(i + 1)}` },
  { name: "traffic6-ports", type: PORTS6, interval: false, element: (i) => `${v6(i)} . tcp . 443 . ${v6(i + 1)} . 8443` },
  { name: "traffic6-ports-b", type: PORTS6, interval: false, element: (i) => `${v6(i)} . udp . 53 . ${v6(i + 1)} . 53` },
  { name: "traffic6-ranges", type: PORTS6, interval: true, element: (i) => `${v6(i)} . udp . 0-65535 . ${v6(i + 1)} . 8080` },
  { name: "traffic6-addr", type: "ipv6_addr . ipv6_addr", interval: false, element: (i) => `${v6(i)} . ${v6(i + 1)}` },
];

function load(sizes: number[]): void {
  const sets = SHAPES.map((s, k) => {
    const elements = Array.from({ length: sizes[k] ?? 0 }, (_, i) => `${s.element(i * 2)} counter packets ${i} bytes ${i * 100}`);
    return `  set ${s.name} {\n    type ${s.type}\n${s.interval ? "    flags interval\n" : ""}    counter\n${elements.length > 0 ? `    elements = {\n${elements.join(",\n")}\n    }\n` : ""}  }\n`;
  });
  execFileSync("nft", ["-f", "-"], { input: `table inet ${TABLE}\ndelete table inet ${TABLE}\ntable inet ${TABLE} {\n${sets.join("")}}\n` });
}

const dumper = openElementCounterDumper();
if (dumper === null) throw new Error("the netlink element dumper did not load (koffi, libnftnl, libmnl)");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

const layouts: Record<string, number[]> = {
  even: SHAPES.map((_, k) => Math.floor(N / SHAPES.length) + (k < N % SHAPES.length ? 1 : 0)),
  skewed: SHAPES.map((_, k) => (k === 0 ? N - Math.floor(N / 40) * (SHAPES.length - 1) : Math.floor(N / 40))),
};
for (const [layout, sizes] of Object.entries(layouts)) {
  load(sizes);
  const names = SHAPES.map((s) => s.name);
  const ms: number[] = [];
  let total = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    const read = dumper.read(TABLE, names);
    ms.push(performance.now() - t);
    total = [...read.values()].reduce((n, m) => n + m.size, 0);
  }
  if (total !== N) throw new Error(`${layout}: read ${total} elements of ${N}`);
  console.log(`${layout} (${sizes.join(" + ")} = ${N} elements, 8 sets): one read, median of ${ROUNDS}: ${median(ms).toFixed(1)} ms (min ${Math.min(...ms).toFixed(1)}, max ${Math.max(...ms).toFixed(1)})`);
}
execFileSync("nft", ["delete", "table", "inet", TABLE]);
dumper.close();

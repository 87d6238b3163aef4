import { describe, expect, it } from "vitest";
import { buildRuleset, parseConfig } from "@switchyard/core";
import { compareShapes, shapeOfIr, shapeOfListing } from "./shape.ts";

// A listing as nft 1.0.6 prints it (`nft -s list table inet switchyard`) for the IR below.
const LISTING = `table inet switchyard {
\tcounter c/web/b1 {
\t}

\tcounter c/web/b2 {
\t}

\tcounter c/web/b3 {
\t}

\tcounter c/dns/d1 {
\t}

\tcounter c/dns/d2 {
\t}

\tcounter c/dns/d3 {
\t}

\tcounter c/dns/d4 {
\t}

\tmap svc4-ports {
\t\ttype inet_proto . ipv4_addr . inet_service : verdict
\t\telements = { udp . 198.18.1.100 . 53 : goto farm-dns-4,
\t\t\t     tcp . 198.18.1.100 . 80 : goto farm-web-4 }
\t}

\tmap svc4-ranges {
\t\ttype inet_proto . ipv4_addr . inet_service : verdict
\t\tflags interval
\t}

\tmap svc4-proto {
\t\ttype inet_proto . ipv4_addr : verdict
\t}

\tmap svc4-addr {
\t\ttype ipv4_addr : verdict
\t}

\tmap svc6-ports {
\t\ttype inet_proto . ipv6_addr . inet_service : verdict
\t\telements = { udp . 2001:db8:1::100 . 53 : goto farm-dns-6 }
\t}

\tmap svc6-ranges {
\t\ttype inet_proto . ipv6_addr . inet_service : verdict
\t\tflags interval
\t}

\tmap svc6-proto {
\t\ttype inet_proto . ipv6_addr : verdict
\t}

\tmap svc6-addr {
\t\ttype ipv6_addr : verdict
\t}

\tset traffic4-ports {
\t\ttype ipv4_addr . inet_proto . inet_service . ipv4_addr . inet_service
\t\tcounter
\t\telements = { 198.18.1.100 . udp . 53 . 198.18.2.11 . 53 counter,
\t\t\t     198.18.1.100 . udp . 53 . 198.18.2.12 . 53 counter,
\t\t\t     198.18.1.100 . tcp . 80 . 198.18.2.11 . 8080 counter,
\t\t\t     198.18.1.100 . tcp . 80 . 198.18.2.12 . 8080 counter,
\t\t\t     198.18.1.100 . tcp . 80 . 198.18.2.13 . 8080 counter }
\t}

\tset traffic4-ranges {
\t\ttype ipv4_addr . inet_proto . inet_service . ipv4_addr . inet_service
\t\tflags interval
\t\tcounter
\t}

\tset traffic4-proto {
\t\ttype ipv4_addr . inet_proto . inet_service . ipv4_addr . inet_service
\t\tflags interval
\t\tcounter
\t}

\tset traffic4-addr {
\t\ttype ipv4_addr . ipv4_addr
\t\tcounter
\t}

\tset traffic6-ports {
\t\ttype ipv6_addr . inet_proto . inet_service . ipv6_addr . inet_service
\t\tcounter
\t\telements = { 2001:db8:1::100 . udp . 53 . 2001:db8:2::11 . 53 counter,
\t\t\t     2001:db8:1::100 . udp . 53 . 2001:db8:2::12 . 53 counter }
\t}

\tset traffic6-ranges {
\t\ttype ipv6_addr . inet_proto . inet_service . ipv6_addr . inet_service
\t\tflags interval
\t\tcounter
\t}

\tset traffic6-proto {
\t\ttype ipv6_addr . inet_proto . inet_service . ipv6_addr . inet_service
\t\tflags interval
\t\tcounter
\t}

\tset traffic6-addr {
\t\ttype ipv6_addr . ipv6_addr
\t\tcounter
\t}

\tchain prerouting {
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tmeta l4proto . ip daddr . th dport vmap @svc4-ports
\t\tmeta l4proto . ip daddr . th dport vmap @svc4-ranges
\t\tmeta l4proto . ip daddr vmap @svc4-proto
\t\tip daddr vmap @svc4-addr
\t\tmeta l4proto . ip6 daddr . th dport vmap @svc6-ports
\t\tmeta l4proto . ip6 daddr . th dport vmap @svc6-ranges
\t\tmeta l4proto . ip6 daddr vmap @svc6-proto
\t\tip6 daddr vmap @svc6-addr
\t}

\tchain postrouting {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\tct mark 0x80000000/1 masquerade
\t}

\tchain traffic {
\t\ttype filter hook forward priority filter; policy accept;
\t\tct status ! dnat accept
\t\tmeta l4proto tcp ct original ip daddr . ct protocol . ct original proto-dst . ct reply ip saddr . ct reply proto-src @traffic4-ports accept
\t\tmeta l4proto udp ct original ip daddr . ct protocol . ct original proto-dst . ct reply ip saddr . ct reply proto-src @traffic4-ports accept
\t\tmeta l4proto sctp ct original ip daddr . ct protocol . ct original proto-dst . ct reply ip saddr . ct reply proto-src @traffic4-ports accept
\t\tmeta l4proto tcp ct original ip daddr . ct protocol . ct original proto-dst . ct reply ip saddr . ct reply proto-src @traffic4-ranges accept
\t\tmeta l4proto udp ct original ip daddr . ct protocol . ct original proto-dst . ct reply ip saddr . ct reply proto-src @traffic4-ranges accept
\t\tmeta l4proto sctp ct original ip daddr . ct protocol . ct original proto-dst . ct reply ip saddr . ct reply proto-src @traffic4-ranges accept
\t\tmeta l4proto tcp ct original ip daddr . ct protocol . ct original proto-dst . ct reply ip saddr . ct reply proto-src @traffic4-proto accept
\t\tmeta l4proto udp ct original ip daddr . ct protocol . ct original proto-dst . ct reply ip saddr . ct reply proto-src @traffic4-proto accept
\t\tmeta l4proto sctp ct original ip daddr . ct protocol . ct original proto-dst . ct reply ip saddr . ct reply proto-src @traffic4-proto accept
\t\tct original ip daddr . ct reply ip saddr @traffic4-addr accept
\t\tmeta l4proto tcp ct original ip6 daddr . ct protocol . ct original proto-dst . ct reply ip6 saddr . ct reply proto-src @traffic6-ports accept
\t\tmeta l4proto udp ct original ip6 daddr . ct protocol . ct original proto-dst . ct reply ip6 saddr . ct reply proto-src @traffic6-ports accept
\t\tmeta l4proto sctp ct original ip6 daddr . ct protocol . ct original proto-dst . ct reply ip6 saddr . ct reply proto-src @traffic6-ports accept
\t\tmeta l4proto tcp ct original ip6 daddr . ct protocol . ct original proto-dst . ct reply ip6 saddr . ct reply proto-src @traffic6-ranges accept
\t\tmeta l4proto udp ct original ip6 daddr . ct protocol . ct original proto-dst . ct reply ip6 saddr . ct reply proto-src @traffic6-ranges accept
\t\tmeta l4proto sctp ct original ip6 daddr . ct protocol . ct original proto-dst . ct reply ip6 saddr . ct reply proto-src @traffic6-ranges accept
\t\tmeta l4proto tcp ct original ip6 daddr . ct protocol . ct original proto-dst . ct reply ip6 saddr . ct reply proto-src @traffic6-proto accept
\t\tmeta l4proto udp ct original ip6 daddr . ct protocol . ct original proto-dst . ct reply ip6 saddr . ct reply proto-src @traffic6-proto accept
\t\tmeta l4proto sctp ct original ip6 daddr . ct protocol . ct original proto-dst . ct reply ip6 saddr . ct reply proto-src @traffic6-proto accept
\t\tct original ip6 daddr . ct reply ip6 saddr @traffic6-addr accept
\t}

\tchain sched-web-4 {
\t\tct mark set numgen random mod 4 offset 2147483648
\t\tct mark 0x80000000-0x80000001 ct mark set numgen random mod 1 offset 3221225472
\t\tct mark 0x80000002 ct mark set numgen random mod 1 offset 3221225473
\t\tct mark 0x80000003 ct mark set numgen random mod 1 offset 3221225474
\t}

\tchain farm-web-4 {
\t\tjump sched-web-4
\t\tct mark 0xc0000000 meta l4proto tcp counter name "c/web/b1" dnat ip to 198.18.2.11:8080
\t\tct mark 0xc0000001 meta l4proto tcp counter name "c/web/b2" dnat ip to 198.18.2.12:8080
\t\tct mark 0xc0000002 meta l4proto tcp counter name "c/web/b3" dnat ip to 198.18.2.13:8080
\t\tdrop
\t}

\tchain sched-dns-4 {
\t\tct mark set jhash ip saddr mod 2 seed 0xda6ae8bc offset 1073741824
\t}

\tchain farm-dns-4 {
\t\tjump sched-dns-4
\t\tct mark 0x40000000 counter name "c/dns/d1" dnat ip to 198.18.2.11
\t\tct mark 0x40000001 counter name "c/dns/d2" dnat ip to 198.18.2.12
\t\tdrop
\t}

\tchain sched-dns-6 {
\t\tct mark set jhash ip6 saddr mod 2 seed 0xda6ae8bc offset 1073741824
\t}

\tchain farm-dns-6 {
\t\tjump sched-dns-6
\t\tct mark 0x40000000 counter name "c/dns/d3" dnat ip6 to 2001:db8:2::11
\t\tct mark 0x40000001 counter name "c/dns/d4" dnat ip6 to 2001:db8:2::12
\t\tdrop
\t}
}
`;

const config = parseConfig({
  farms: [
    {
      name: "web", "virtual-addr": "198.18.1.100", "virtual-ports": "80", scheduler: "weight",
      backends: [
        { name: "b1", "ip-addr": "198.18.2.11", port: "8080", weight: "2" },
        { name: "b2", "ip-addr": "198.18.2.12", port: "8080" },
        { name: "b3", "ip-addr": "198.18.2.13", port: "8080" },
      ],
    },
    {
      name: "dns", family: "dual", "virtual-addr": "198.18.1.100", "virtual-addr6": "2001:db8:1::100", "virtual-ports": "53",
      protocol: "udp", scheduler: "hash", mode: "dnat",
      backends: [
        { name: "d1", "ip-addr": "198.18.2.11" }, { name: "d2", "ip-addr": "198.18.2.12" },
        { name: "d3", "ip-addr": "2001:db8:2::11" }, { name: "d4", "ip-addr": "2001:db8:2::12" },
      ],
    },
  ],
});
const inet = buildRuleset(config, { table: "switchyard" }).tables.find((t) => t.family === "inet");
if (inet === undefined) throw new Error("no inet table");

describe("table shapes", () => {
  it("the IR and nft's listing of it have the same shape", () => {
    const listed = shapeOfListing(LISTING);
    expect(listed.maps.get("svc4-ports")).toBe(2);
    expect(listed.maps.get("svc6-ports")).toBe(1);
    expect(listed.chains.get("prerouting")).toEqual({ hooked: true, rules: 8 });
    expect(listed.chains.get("sched-web-4")).toEqual({ hooked: false, rules: 4 });
    expect(listed.chains.get("farm-web-4")).toEqual({ hooked: false, rules: 5 });
    expect([...listed.counters]).toEqual(inet.counters);
    expect(listed.others).toEqual([]);
    expect(compareShapes(shapeOfIr(inet), listed, "table inet switchyard")).toEqual([]);
  });

  it("names every difference", () => {
    const changed = LISTING.replace('\t\tct mark 0xc0000001 meta l4proto tcp counter name "c/web/b2" dnat ip to 198.18.2.12:8080\n', "")
      .replace("\tcounter c/dns/d4 {\n\t}\n", "\tcounter c/dns/zz {\n\t}\n")
      .replace(",\n\t\t\t     tcp . 198.18.1.100 . 80 : goto farm-web-4 }", " }")
      .replace(",\n\t\t\t     198.18.1.100 . tcp . 80 . 198.18.2.13 . 8080 counter }", " }")
      .replace("\tchain farm-dns-6 {", "\tset intruders {\n\t\ttype ipv4_addr\n\t}\n\n\tchain other {\n\t}\n\n\tchain farm-dns-6-gone {")
      .replace("\t\ttype nat hook postrouting priority srcnat; policy accept;\n", "");
    expect(compareShapes(shapeOfIr(inet), shapeOfListing(changed), "T")).toEqual([
      "T: chain postrouting is not a base chain",
      "T: chain farm-web-4 has 4 rules, expected 5",
      "T: chain farm-dns-6 is missing",
      "T: chain other is not the agent's",
      "T: chain farm-dns-6-gone is not the agent's",
      "T: map svc4-ports has 1 elements, expected 2",
      "T: map traffic4-ports has 4 elements, expected 5",
      "T: counter c/dns/d4 is missing",
      "T: counter c/dns/zz is not the agent's",
      "T: set intruders is not the agent's",
    ]);
  });
});

"use client";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Card, ErrorNote, PageHeader } from "@/components/ui/card";
import { Field } from "@/components/ui/field";
import { Select } from "@/components/ui/input";
import { exact } from "@/lib/format";
import { useTRPC } from "@/lib/trpc";
import { RateChart } from "./rate-chart";
import { key, ratesOf, readingOf, type CountersAnswer, type RatePoint, type Reading } from "./window";

const POLL_MS = 3_000;
const WINDOW_MS = 5 * 60_000;
const TOP_FARMS = 8;
const TABLE_FARMS = 50;

const rate = (v: number | undefined) => (v === undefined ? "—" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const count = (v: number) => v.toLocaleString("en-US");

/** Farms of one node, or summed over all that answered. */
function totalsOf(answer: CountersAnswer, node: string | null) {
  if (node === null) return answer.farms;
  const found = answer.nodes.find((n) => n.name === node);
  return found?.ok === true ? found.value.farms : [];
}

function average(points: readonly RatePoint[], pick: (p: RatePoint) => number | undefined): number {
  if (points.length === 0) return 0;
  return points.reduce((sum, p) => sum + (pick(p) ?? 0), 0) / points.length;
}

/** New connections per farm and backend over time, from every agent's kernel counters, polled by this page. */
export function Traffic() {
  const trpc = useTRPC();
  const counters = useQuery(trpc.nodes.counters.queryOptions(undefined, { refetchInterval: POLL_MS, staleTime: 0 }));
  const [readings, setReadings] = useState<Reading[]>([]);
  const [node, setNode] = useState<string | null>(null);
  const [farmChoice, setFarmChoice] = useState<string | null>(null);

  const answer = counters.data;
  useEffect(() => {
    if (answer === undefined) return;
    const reading = readingOf(answer);
    setReadings((previous) => {
      if (previous.length > 0 && (previous[previous.length - 1] as Reading).at >= reading.at) return previous;
      return [...previous, reading].filter((r) => r.at >= reading.at - WINDOW_MS);
    });
  }, [answer]);

  const points = ratesOf(readings, node);
  const last = points[points.length - 1];
  const totals = answer === undefined ? [] : totalsOf(answer, node);
  const byRecentRate = [...totals].sort((a, b) => average(points, (p) => p.farms.get(b.name)) - average(points, (p) => p.farms.get(a.name)) || b.connections - a.connections);
  const topFarms = byRecentRate.slice(0, TOP_FARMS);
  const farm = totals.find((f) => f.name === farmChoice) ?? byRecentRate[0];
  const silent = answer?.nodes.filter((n) => !n.ok && (node === null || n.name === node)) ?? [];
  const answered = answer?.nodes.filter((n) => n.ok).length ?? 0;

  const farmData = points.map((p) => Object.fromEntries([["t", p.at], ...topFarms.map((f) => [f.name, p.farms.get(f.name) ?? 0])]));
  const backendData = farm === undefined ? [] : points.map((p) => Object.fromEntries([["t", p.at], ...farm.backends.map((b) => [b.name, p.backends.get(key(farm.name, b.name)) ?? 0])]));
  const where = node === null ? "all nodes" : node;

  return (
    <>
      <PageHeader
        title="Traffic"
        description={answer === undefined ? "Reading the agents' counters…" : `New connections per second, ${where}, over the last ${Math.round(WINDOW_MS / 60_000)} minutes while this page is open (read every ${POLL_MS / 1000} s; last read ${exact(answer.at) ?? ""})`}
        actions={
          <div className="w-60">
            <Field label="Node">
              <Select value={node ?? ""} onChange={(e) => setNode(e.target.value === "" ? null : e.target.value)}>
                <option value="">All nodes (summed)</option>
                {answer?.nodes.map((n) => (
                  <option key={n.name} value={n.name}>{n.name}{n.ok ? "" : " (not answering)"}</option>
                ))}
              </Select>
            </Field>
          </div>
        }
      />
      <p className="mb-4 rounded-md border border-zinc-200 bg-white px-3 py-2 text-sm text-zinc-700 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-300">
        <strong>What is counted:</strong> the balancer's NAT rules count a connection once, when they choose its backend (its first packet). These figures are <strong>new connections</strong>, not the packets or bytes that follow on them. Current (open) connections are not reported by the agents, so they are not shown.
      </p>
      {counters.isError ? <ErrorNote error={counters.error} /> : null}
      {silent.length > 0 ? (
        <div className="mb-4 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200">
          <p className="font-medium">{node !== null ? `${node} did not answer:` : `${silent.length} of ${answer?.nodes.length} nodes not counted (their connections are missing from the sums):`}</p>
          <ul className="mt-1 list-disc pl-5">
            {silent.map((n) => <li key={n.name} className="break-words">{n.ok ? null : n.error}</li>)}
          </ul>
        </div>
      ) : null}
      {answer !== undefined && answered === 0 && answer.nodes.length === 0 ? <p className="text-sm text-zinc-500">No nodes: there is nothing to count.</p> : null}
      {answer !== undefined && totals.length === 0 && answered > 0 ? <p className="mb-4 text-sm text-zinc-500">No counters yet: the nodes run no farm with backends.</p> : null}
      {totals.length > 0 ? (
        <div className="grid gap-4 xl:grid-cols-2">
          <Card title={`Farms${totals.length > TOP_FARMS ? ` (the ${TOP_FARMS} busiest of ${totals.length})` : ""}`}>
            {points.length === 0 ? <p className="text-sm text-zinc-500">Collecting: rates appear after the second reading.</p> : (
              <RateChart data={farmData} series={topFarms.map((f) => ({ key: f.name, name: f.name }))} summary={`New connections per second for ${topFarms.map((f) => `${f.name}: ${rate(last?.farms.get(f.name))}`).join(", ")}`} />
            )}
          </Card>
          <Card
            title={farm === undefined ? "Backends" : `Backends of ${farm.name}`}
            actions={
              <label className="flex items-center gap-2 text-xs">
                <span>Farm</span>
                <Select className="h-7 w-40 text-xs" value={farm?.name ?? ""} onChange={(e) => setFarmChoice(e.target.value)}>
                  {byRecentRate.map((f) => <option key={f.name} value={f.name}>{f.name}</option>)}
                </Select>
              </label>
            }
          >
            {points.length === 0 || farm === undefined ? <p className="text-sm text-zinc-500">Collecting: rates appear after the second reading.</p> : (
              <RateChart data={backendData} series={farm.backends.map((b) => ({ key: b.name, name: b.name }))} summary={`New connections per second to the backends of ${farm.name}: ${farm.backends.map((b) => `${b.name}: ${rate(last?.backends.get(key(farm.name, b.name)))}`).join(", ")}`} />
            )}
          </Card>
          <Card title="Per farm and backend" className="xl:col-span-2">
            <div className="overflow-x-auto">
              <table className="w-full text-left text-sm">
                <caption className="sr-only">New connections per farm and backend, {where}</caption>
                <thead className="text-xs text-zinc-500">
                  <tr>
                    <th scope="col" className="py-1 pr-4 font-medium">Farm / backend</th>
                    <th scope="col" className="pr-4 text-right font-medium">New conn/s (last {POLL_MS / 1000} s)</th>
                    <th scope="col" className="pr-4 text-right font-medium">Average over the window</th>
                    <th scope="col" className="pr-4 text-right font-medium">Share</th>
                    <th scope="col" className="text-right font-medium">Total since the counter was created</th>
                  </tr>
                </thead>
                <tbody className="tabular-nums">
                  {byRecentRate.slice(0, TABLE_FARMS).map((f) => {
                    const farmAvg = average(points, (p) => p.farms.get(f.name));
                    return [
                      <tr key={f.name} className="border-t border-zinc-200 font-medium dark:border-zinc-700">
                        <th scope="row" className="py-1.5 pr-4 text-left">{f.name}</th>
                        <td className="pr-4 text-right">{rate(last?.farms.get(f.name))}</td>
                        <td className="pr-4 text-right">{rate(farmAvg)}</td>
                        <td className="pr-4 text-right" />
                        <td className="text-right">{count(f.connections)}</td>
                      </tr>,
                      ...f.backends.map((b) => {
                        const avg = average(points, (p) => p.backends.get(key(f.name, b.name)));
                        return (
                          <tr key={`${f.name}/${b.name}`} className="border-t border-zinc-100 text-zinc-700 dark:border-zinc-800 dark:text-zinc-300">
                            <th scope="row" className="py-1 pr-4 pl-4 text-left font-normal">{b.name}</th>
                            <td className="pr-4 text-right">{rate(last?.backends.get(key(f.name, b.name)))}</td>
                            <td className="pr-4 text-right">{rate(avg)}</td>
                            <td className="pr-4 text-right">{farmAvg > 0 ? `${Math.round((avg / farmAvg) * 100)} %` : f.connections > 0 ? `${Math.round((b.connections / f.connections) * 100)} % of total` : "—"}</td>
                            <td className="text-right">{count(b.connections)}</td>
                          </tr>
                        );
                      }),
                    ];
                  })}
                </tbody>
              </table>
              {byRecentRate.length > TABLE_FARMS ? <p className="mt-2 text-xs text-zinc-500">The {TABLE_FARMS} busiest of {byRecentRate.length} farms are listed.</p> : null}
            </div>
          </Card>
        </div>
      ) : null}
    </>
  );
}

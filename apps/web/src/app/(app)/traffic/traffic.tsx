"use client";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Card, ErrorNote, PageHeader } from "@/components/ui/card";
import { Field } from "@/components/ui/field";
import { Select } from "@/components/ui/input";
import { exact } from "@/lib/format";
import { useTRPC } from "@/lib/trpc";
import { RateChart } from "./rate-chart";
import { MEASURE_LABEL, rateText, totalText } from "./units";
import { key, MEASURES, ratesOf, readingOf, type Amounts, type CountersAnswer, type Measure, type RatePoint, type Reading } from "./window";

const POLL_MS = 3_000;
const WINDOW_MS = 5 * 60_000;
const TOP_FARMS = 8;
const TABLE_FARMS = 50;


/** Farms of one node, or summed over all that answered. */
function totalsOf(answer: CountersAnswer, node: string | null) {
  if (node === null) return answer.farms;
  const found = answer.nodes.find((n) => n.name === node);
  return found?.ok === true ? found.value.farms : [];
}

function average(points: readonly RatePoint[], pick: (p: RatePoint) => Amounts | undefined, measure: Measure): number {
  if (points.length === 0) return 0;
  return points.reduce((sum, p) => sum + (pick(p)?.[measure] ?? 0), 0) / points.length;
}

/** New connections, packets and bytes per farm and backend over time, from every agent's kernel counters, polled by this page. */
export function Traffic() {
  const trpc = useTRPC();
  const counters = useQuery(trpc.nodes.counters.queryOptions(undefined, { refetchInterval: POLL_MS, staleTime: 0 }));
  const [readings, setReadings] = useState<Reading[]>([]);
  const [node, setNode] = useState<string | null>(null);
  const [farmChoice, setFarmChoice] = useState<string | null>(null);
  const [measure, setMeasure] = useState<Measure>("bytes");

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
  const byRecentRate = [...totals].sort((a, b) => average(points, (p) => p.farms.get(b.name), measure) - average(points, (p) => p.farms.get(a.name), measure) || b[measure] - a[measure]);
  const topFarms = byRecentRate.slice(0, TOP_FARMS);
  const farm = totals.find((f) => f.name === farmChoice) ?? byRecentRate[0];
  const silent = answer?.nodes.filter((n) => !n.ok && (node === null || n.name === node)) ?? [];
  const answered = answer?.nodes.filter((n) => n.ok).length ?? 0;

  const farmData = points.map((p) => Object.fromEntries([["t", p.at], ...topFarms.map((f) => [f.name, p.farms.get(f.name)?.[measure] ?? 0])]));
  const backendData = farm === undefined ? [] : points.map((p) => Object.fromEntries([["t", p.at], ...farm.backends.map((b) => [b.name, p.backends.get(key(farm.name, b.name))?.[measure] ?? 0])]));
  const where = node === null ? "all nodes" : node;
  const label = MEASURE_LABEL[measure].rate;
  const say = (v: Amounts | undefined) => rateText(measure, v?.[measure]);

  return (
    <>
      <PageHeader
        title="Traffic"
        description={answer === undefined ? "Reading the agents' counters…" : `New connections, packets and bytes per second, ${where}, over the last ${Math.round(WINDOW_MS / 60_000)} minutes while this page is open (read every ${POLL_MS / 1000} s; last read ${exact(answer.at) ?? ""})`}
        actions={
          <div className="flex gap-3">
          <div className="w-44">
            <Field label="Charts show">
              <Select value={measure} onChange={(e) => setMeasure(e.target.value as Measure)}>
                {MEASURES.map((m) => <option key={m} value={m}>{MEASURE_LABEL[m].rate}</option>)}
              </Select>
            </Field>
          </div>
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
          </div>
        }
      />
      <p className="mb-4 rounded-md border border-zinc-200 bg-white px-3 py-2 text-sm text-zinc-700 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-300">
        <strong>What is counted:</strong> the balancer's NAT rules count a <strong>new connection</strong> once, when they choose its backend (its first packet); its forward rules count every <strong>packet and byte</strong> of the balanced connections, both directions (to the backend and back), to the backend that really serves each connection, even after a re-weight or with the backend set down. Bytes are IP lengths (headers included). Current (open) connections are not reported by the agents, so they are not shown. dsr farms are not counted: their replies never pass through the balancer.
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
              <RateChart measure={measure} data={farmData} series={topFarms.map((f) => ({ key: f.name, name: f.name }))} summary={`${label} for ${topFarms.map((f) => `${f.name}: ${say(last?.farms.get(f.name))}`).join(", ")}`} />
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
              <RateChart measure={measure} data={backendData} series={farm.backends.map((b) => ({ key: b.name, name: b.name }))} summary={`${label} of the backends of ${farm.name}: ${farm.backends.map((b) => `${b.name}: ${say(last?.backends.get(key(farm.name, b.name)))}`).join(", ")}`} />
            )}
          </Card>
          <Card title="Per farm and backend" className="xl:col-span-2">
            <div className="overflow-x-auto">
              <table className="w-full text-left text-sm">
                <caption className="sr-only">New connections, packets and bytes per farm and backend, {where}</caption>
                <thead className="text-xs text-zinc-500">
                  <tr>
                    <th scope="col" className="py-1 pr-4 font-medium">Farm / backend</th>
                    {MEASURES.map((m) => <th key={m} scope="col" className="pr-4 text-right font-medium">{MEASURE_LABEL[m].rate} (last {POLL_MS / 1000} s)</th>)}
                    <th scope="col" className="pr-4 text-right font-medium">Share of {MEASURE_LABEL[measure].total.toLowerCase()} (window)</th>
                    <th scope="col" className="pr-4 text-right font-medium">Connections since the counter was created</th>
                    <th scope="col" className="text-right font-medium">Bytes since the counter was created</th>
                  </tr>
                </thead>
                <tbody className="tabular-nums">
                  {byRecentRate.slice(0, TABLE_FARMS).map((f) => {
                    const farmAvg = average(points, (p) => p.farms.get(f.name), measure);
                    const farmLast = last?.farms.get(f.name);
                    return [
                      <tr key={f.name} className="border-t border-zinc-200 font-medium dark:border-zinc-700">
                        <th scope="row" className="py-1.5 pr-4 text-left">{f.name}</th>
                        {MEASURES.map((m) => <td key={m} className="pr-4 text-right">{rateText(m, farmLast?.[m])}</td>)}
                        <td className="pr-4 text-right" />
                        <td className="pr-4 text-right">{totalText("connections", f.connections)}</td>
                        <td className="text-right">{totalText("bytes", f.bytes)}</td>
                      </tr>,
                      ...f.backends.map((b) => {
                        const k = key(f.name, b.name);
                        const avg = average(points, (p) => p.backends.get(k), measure);
                        const backendLast = last?.backends.get(k);
                        return (
                          <tr key={k} className="border-t border-zinc-100 text-zinc-700 dark:border-zinc-800 dark:text-zinc-300">
                            <th scope="row" className="py-1 pr-4 pl-4 text-left font-normal">{b.name}</th>
                            {MEASURES.map((m) => <td key={m} className="pr-4 text-right">{rateText(m, backendLast?.[m])}</td>)}
                            <td className="pr-4 text-right">{farmAvg > 0 ? `${Math.round((avg / farmAvg) * 100)} %` : f[measure] > 0 ? `${Math.round((b[measure] / f[measure]) * 100)} % of total` : "—"}</td>
                            <td className="pr-4 text-right">{totalText("connections", b.connections)}</td>
                            <td className="text-right">{totalText("bytes", b.bytes)}</td>
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

"use client";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis, type TooltipContentProps } from "recharts";
import { MEASURE_LABEL, rateText, scaled } from "./units";
import type { Measure } from "./window";

// Colours that stay apart in light and dark themes (and for the common colour blindnesses, mostly).
const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777", "#65a30d", "#78716c"];

export interface Series {
  key: string;
  name: string;
}

const clock = (t: number) => new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
/** The values at the pointer, in the page's own colours (light or dark), busiest first. */
function RateTooltip({ active, payload, label, measure }: TooltipContentProps & { measure: Measure }) {
  if (!active || payload === undefined || payload.length === 0) return null;
  const rows = [...payload].sort((a, b) => Number(b.value) - Number(a.value));
  return (
    <div className="rounded-md border border-zinc-200 bg-white px-2.5 py-1.5 shadow-md dark:border-zinc-700 dark:bg-zinc-900">
      <p className="mb-1 font-medium">{clock(Number(label))}</p>
      {rows.map((p) => (
        <p key={String(p.dataKey)} className="flex items-center gap-2 tabular-nums">
          <span aria-hidden className="inline-block size-2 rounded-full" style={{ backgroundColor: p.color }} />
          <span className="min-w-16">{p.name}</span>
          <span className="ml-auto">{rateText(measure, Number(p.value))}{measure === "bytes" ? "" : ` ${MEASURE_LABEL[measure].unit}`}</span>
        </p>
      ))}
    </div>
  );
}

/** One measure per second over time, one line per series; `summary` is what a screen reader hears instead of the drawing. */
export function RateChart({ data, series, summary, measure }: { data: Record<string, number>[]; series: Series[]; summary: string; measure: Measure }) {
  return (
    <div role="img" aria-label={summary} className="h-64 w-full text-xs">
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.15} />
          <XAxis dataKey="t" type="number" scale="time" domain={["dataMin", "dataMax"]} tickFormatter={clock} stroke="currentColor" strokeOpacity={0.5} minTickGap={40} />
          <YAxis width={64} stroke="currentColor" strokeOpacity={0.5} tickFormatter={(v: number) => (measure === "connections" ? rateText(measure, v) : scaled(v))} label={{ value: MEASURE_LABEL[measure].unit, angle: -90, position: "insideLeft", fill: "currentColor", fontSize: 11 }} />
          <Tooltip content={(props: TooltipContentProps) => <RateTooltip {...props} measure={measure} />} />
          <Legend />
          {/* By name, so that a series keeps its colour while the busiest ones change places. */}
          {[...series].sort((a, b) => a.name.localeCompare(b.name)).map((s, i) => (
            <Line key={s.key} dataKey={s.key} name={s.name} type="linear" dot={false} strokeWidth={2} stroke={PALETTE[i % PALETTE.length]} isAnimationActive={false} connectNulls />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

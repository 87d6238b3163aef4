"use client";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

// Colours that stay apart in light and dark themes (and for the common colour blindnesses, mostly).
const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777", "#65a30d", "#78716c"];

export interface Series {
  key: string;
  name: string;
}

const clock = (t: number) => new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const perSecond = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** New connections per second over time, one line per series; `summary` is what a screen reader hears instead of the drawing. */
export function RateChart({ data, series, summary }: { data: Record<string, number>[]; series: Series[]; summary: string }) {
  return (
    <div role="img" aria-label={summary} className="h-64 w-full text-xs">
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.15} />
          <XAxis dataKey="t" type="number" scale="time" domain={["dataMin", "dataMax"]} tickFormatter={clock} stroke="currentColor" strokeOpacity={0.5} minTickGap={40} />
          <YAxis width={56} stroke="currentColor" strokeOpacity={0.5} tickFormatter={perSecond} label={{ value: "new conn/s", angle: -90, position: "insideLeft", fill: "currentColor", fontSize: 11 }} />
          <Tooltip labelFormatter={(t) => clock(Number(t))} formatter={(v) => [`${perSecond(Number(v))} new conn/s`]} contentStyle={{ fontSize: 12 }} />
          <Legend />
          {series.map((s, i) => (
            <Line key={s.key} dataKey={s.key} name={s.name} type="monotone" dot={false} strokeWidth={2} stroke={PALETTE[i % PALETTE.length]} isAnimationActive={false} connectNulls />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

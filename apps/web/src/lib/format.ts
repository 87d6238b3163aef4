/** "3 min ago" for recent times, the date beyond a day; the exact time goes in a title attribute. */
export function ago(when: Date | string | null | undefined, now = Date.now()): string {
  if (when === null || when === undefined) return "never";
  const t = new Date(when).getTime();
  const s = Math.round((now - t) / 1000);
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(t).toISOString().slice(0, 16).replace("T", " ");
}

export function exact(when: Date | string | null | undefined): string | undefined {
  return when === null || when === undefined ? undefined : new Date(when).toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

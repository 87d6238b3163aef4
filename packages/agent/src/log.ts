import { pino, type Logger } from "pino";

export type { Logger };

const PINO_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof PINO_LEVELS)[number];

/**
 * nftlb's -l takes a syslog level (0 emerg .. 7 debug); pino's names are accepted too.
 * Returns null for anything else.
 */
export function parseLogLevel(text: string): LogLevel | null {
  const word = text.trim().toLowerCase();
  if ((PINO_LEVELS as readonly string[]).includes(word)) return word as LogLevel;
  if (/^[0-7]$/.test(word)) {
    const syslog = Number(word);
    if (syslog <= 2) return "fatal";
    if (syslog === 3) return "error";
    if (syslog === 4) return "warn";
    if (syslog <= 6) return "info";
    return "debug";
  }
  return null;
}

/**
 * Structured logs (one JSON object a line) on stderr, written synchronously so that the
 * last lines before an exit are never lost.
 */
export function createLogger(level: LogLevel = "info", fd = 2): Logger {
  return pino(
    { name: "switchyard-agent", level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd, sync: true }),
  );
}

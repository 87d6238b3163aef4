import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, DEFAULT_TABLE } from "@switchyard/core";
import { applyConfigFile } from "./apply-config.ts";
import { DEFAULT_DRIFT_INTERVAL_SECONDS, DEFAULT_PORT, DEFAULT_STATE_DIR, runDaemon } from "./daemon.ts";
import { daemonize, reportToParent } from "./daemonize.ts";
import { EnvError, readEnv } from "./env.ts";
import { resolveFacts } from "./facts.ts";
import { createLogger, parseLogLevel } from "./log.ts";
import { NftDriver, NftError } from "./nft/driver.ts";
import { encodeReplace } from "./nft/netlink/replace.ts";
import { openReplaceSender } from "./nft/netlink/replace-send.ts";
import { execRunner } from "./nft/runner.ts";

const MIN_TOKEN_LENGTH = 32;

const USAGE = `Usage: switchyard-agent [-c <FILE>] [-e] [-k <KEY>] [-H <HOST>] [-P <PORT>] [-6] [-l <LEVEL>] [-d]
       switchyard-agent --managed --token-file <FILE> [--control-plane <URL>] [-H <HOST>] [-P <PORT>] [--state-dir <DIR>] [--table <NAME>]
  [ -h | --help ]: Show this help
  [ -c <FILE> | --config <FILE> ]: Initial configuration file (nftlb JSON)
  [ -e | --exit ]: Apply the configuration file and exit
  [ -k <KEY> | --key <KEY> ]: Authentication key for the web service (else $NFTLB_SERVER_KEY or $SWITCHYARD_KEY, else a random one, printed once)
  [ -H <HOST> | --host <HOST> ]: Address of the web service (default 127.0.0.1, or ::1 with -6)
  [ -P <PORT> | --port <PORT> ]: Port of the web service (default ${DEFAULT_PORT})
  [ -6 | --ipv6 ]: Listen on IPv6 for the web service
  [ -l <LEVEL> | --log <LEVEL> ]: Log level: 0-7 (syslog) or fatal, error, warn, info, debug, trace, silent (default info)
  [ -d | --daemonize ]: Run as a daemon (prints its pid once it listens)
  [ --state-dir <DIR> ]: Where the last applied config is kept across restarts (default ${DEFAULT_STATE_DIR})
  [ --log-file <FILE> ]: With -d: append the daemon's logs to FILE (default: dropped)
  [ --table <NAME> ]: Name of the agent's own tables (default ${DEFAULT_TABLE})
  [ --check ]: With -e: render and check with nft --check, change nothing
  [ --print ]: With -e: print the nft script that would be applied, change nothing
  [ --managed ]: Managed mode: the control plane sends rulesets (PUT /v1/ruleset); the nftlb API answers 409 (the control plane owns the farms)
  [ --token-file <FILE> ]: With --managed: the node token (at least ${MIN_TOKEN_LENGTH} characters; else $SWITCHYARD_NODE_TOKEN)
  [ --control-plane <URL> ]: With --managed: the control plane's URL, named when the nftlb API refuses a change
  [ --drift-interval <SECONDS> ]: Compare the kernel's copy of the agent's tables with the last applied ruleset this often (default ${DEFAULT_DRIFT_INTERVAL_SECONDS}; 0: never)
  [ --repair-drift ]: Put the agent's tables back as soon as a check finds drift (default: report only)
  [ --nft-only ]: Commit every change with nft; no netlink batches (farm chain refills, full replaces)
`;

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

type Args = ReturnType<typeof parse>;

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    options: {
      help: { type: "boolean", short: "h" },
      config: { type: "string", short: "c" },
      exit: { type: "boolean", short: "e" },
      key: { type: "string", short: "k" },
      host: { type: "string", short: "H" },
      port: { type: "string", short: "P" },
      ipv6: { type: "boolean", short: "6" },
      log: { type: "string", short: "l" },
      daemonize: { type: "boolean", short: "d" },
      "state-dir": { type: "string", default: DEFAULT_STATE_DIR },
      "log-file": { type: "string" },
      table: { type: "string", default: DEFAULT_TABLE },
      check: { type: "boolean" },
      print: { type: "boolean" },
      managed: { type: "boolean" },
      "token-file": { type: "string" },
      "control-plane": { type: "string" },
      "drift-interval": { type: "string" },
      "repair-drift": { type: "boolean" },
      "nft-only": { type: "boolean" },
    },
  }).values;
}

const fail = (message: string, code = 2): number => {
  process.stderr.write(`switchyard-agent: ${message}\n`);
  return code;
};

export async function main(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parse(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!TABLE_NAME.test(args.table)) {
    return fail(`--table ${JSON.stringify(args.table)}: must be a letter followed by up to 31 letters, digits, '_' or '-'`);
  }
  if (!args.managed && (args["token-file"] !== undefined || args["control-plane"] !== undefined)) {
    return fail("--token-file and --control-plane go with --managed");
  }
  if (args.managed && (args.exit || args.config !== undefined)) {
    return fail("--managed takes its rulesets from the control plane: -e and -c go with standalone mode");
  }
  return args.exit ? applyAndExit(args) : daemon(args);
}

async function applyAndExit(args: Args): Promise<number> {
  if (args.config === undefined) {
    process.stderr.write(`switchyard-agent: -e needs a configuration file (-c FILE)\n${USAGE}`);
    return 2;
  }
  const stopAfter = args.print ? "print" : args.check ? "check" : undefined;
  const sender = stopAfter === undefined && !args["nft-only"] ? openReplaceSender() : null;
  try {
    const outcome = await applyConfigFile(args.config, {
      table: args.table,
      driver: new NftDriver(execRunner()),
      resolveFacts,
      ...(stopAfter ? { stopAfter } : {}),
      ...(sender !== null ? { replacePath: { encode: encodeReplace, send: (batch: Buffer) => sender.send(batch) } } : {}),
      onBatchFailure: (reason) => process.stderr.write(`switchyard-agent: the netlink batch failed (${reason}); applying with nft\n`),
    });
    if (stopAfter === "print") process.stdout.write(outcome.script ?? "");
    const verb = stopAfter === "check" ? "checked" : stopAfter === "print" ? "rendered" : `applied (${outcome.via === "netlink" ? "netlink batch" : "nft"})`;
    process.stderr.write(`switchyard-agent: ${verb} ${outcome.config.farms.length} farm(s) from ${args.config} (tables "${args.table}")\n`);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`switchyard-agent: ${args.config} was not applied:\n${error.message.replace(/^/gm, "  ")}\n`);
      return 1;
    }
    if (error instanceof NftError) {
      process.stderr.write(`switchyard-agent: ${args.config} was not applied, the ruleset is unchanged: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`switchyard-agent: ${(error as Error).message}\n`);
    return 1;
  } finally {
    sender?.close();
  }
}

async function daemon(args: Args): Promise<number> {
  if (args.check || args.print) return fail("--check and --print go with -e");
  if (args["log-file"] !== undefined && !args.daemonize) return fail("--log-file goes with -d (without -d the logs go to stderr)");
  const port = args.port === undefined ? DEFAULT_PORT : /^\d{1,5}$/.test(args.port) ? Number(args.port) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) return fail(`-P ${JSON.stringify(args.port)}: must be a port number from 0 to 65535`);
  const level = parseLogLevel(args.log ?? "info");
  if (level === null) return fail(`-l ${JSON.stringify(args.log)}: must be 0-7 or one of fatal, error, warn, info, debug, trace, silent`);
  if (args.key === "") return fail("-k: the key must not be empty");
  const driftInterval = args["drift-interval"] === undefined ? DEFAULT_DRIFT_INTERVAL_SECONDS : /^\d{1,6}$/.test(args["drift-interval"]) ? Number(args["drift-interval"]) : Number.NaN;
  if (Number.isNaN(driftInterval)) return fail(`--drift-interval ${JSON.stringify(args["drift-interval"])}: must be a whole number of seconds (0 turns drift checks off)`);
  let env;
  try {
    env = readEnv();
  } catch (error) {
    if (error instanceof EnvError) return fail(error.message, 1);
    throw error;
  }
  let managed: { token: string; controlPlane?: string } | undefined;
  if (args.managed) {
    const found = await managedOptions(args, env.SWITCHYARD_NODE_TOKEN);
    if (typeof found === "string") return fail(found, 1);
    managed = found;
  }
  let key = args.key ?? env.NFTLB_SERVER_KEY ?? env.SWITCHYARD_KEY;
  // A managed agent's nftlb API only reads and refuses: without -k it takes the node token.
  if (key === undefined && managed !== undefined) key = managed.token;
  if (key === undefined) {
    key = randomBytes(24).toString("base64url");
    process.stderr.write(`switchyard-agent: no key given (-k, NFTLB_SERVER_KEY or SWITCHYARD_KEY); this run's key is: ${key}\n`);
  }
  const host = args.host ?? (args.ipv6 ? "::1" : "127.0.0.1");
  const stateDir = resolve(args["state-dir"]);
  const configFile = args.config === undefined ? undefined : resolve(args.config);

  if (args.daemonize && env.SWITCHYARD_AGENT_DAEMONIZED === undefined) {
    // The key travels in the environment, not in the child's argv where ps shows it.
    const childArgs = ["-H", host, "-P", String(port), "-l", level, "--state-dir", stateDir, "--table", args.table, "--drift-interval", String(driftInterval)];
    if (args["repair-drift"]) childArgs.push("--repair-drift");
    if (args["nft-only"]) childArgs.push("--nft-only");
    if (configFile !== undefined) childArgs.push("-c", configFile);
    if (managed !== undefined) {
      childArgs.push("--managed");
      if (managed.controlPlane !== undefined) childArgs.push("--control-plane", managed.controlPlane);
    }
    return daemonize({
      args: childArgs,
      // The node token travels in the environment too.
      env: { SWITCHYARD_KEY: key, NFTLB_SERVER_KEY: "", ...(managed !== undefined ? { SWITCHYARD_NODE_TOKEN: managed.token } : {}) },
      logFile: args["log-file"] === undefined ? null : resolve(args["log-file"]),
    });
  }

  return runDaemon(
    {
      key,
      host,
      port,
      stateDir,
      table: args.table,
      driftIntervalSeconds: driftInterval,
      repairDrift: args["repair-drift"] ?? false,
      netlink: !(args["nft-only"] ?? false),
      ...(configFile !== undefined ? { configFile } : {}),
      ...(managed !== undefined ? { managed } : {}),
      log: createLogger(level),
    },
    {
      onReady: (address) => reportToParent({ type: "ready", ...address }),
      onStartFailure: (message) => {
        process.stderr.write(`switchyard-agent: ${message}\n`);
        reportToParent({ type: "error", message });
      },
    },
  );
}

/** The token (file first, then the environment) and control plane URL; a string is the reason to refuse. */
async function managedOptions(args: Args, envToken: string | undefined): Promise<{ token: string; controlPlane?: string } | string> {
  let token = envToken;
  const file = args["token-file"];
  if (file !== undefined) {
    try {
      token = (await readFile(file, "utf8")).trim();
    } catch (error) {
      return `--token-file ${file}: cannot read it: ${(error as Error).message}`;
    }
  }
  if (token === undefined || token === "") {
    return "managed mode needs the node token: --token-file FILE or SWITCHYARD_NODE_TOKEN (the control plane shows it when the node is enrolled)";
  }
  if (token.length < MIN_TOKEN_LENGTH) return `the node token is too short (${token.length} characters; at least ${MIN_TOKEN_LENGTH})`;
  if (/\s/.test(token)) return "the node token must not contain whitespace";
  const url = args["control-plane"];
  if (url === undefined) return { token };
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("not http(s)");
  } catch {
    return `--control-plane ${JSON.stringify(url)}: must be an http:// or https:// URL`;
  }
  return { token, controlPlane: url };
}

const exitCode = await main(process.argv.slice(2));
process.exitCode = exitCode;

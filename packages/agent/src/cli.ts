import { parseArgs } from "node:util";
import { ConfigError, DEFAULT_TABLE } from "@switchyard/core";
import { applyConfigFile } from "./apply-config.ts";
import { resolveFacts } from "./facts.ts";
import { NftDriver, NftError } from "./nft/driver.ts";
import { execRunner } from "./nft/runner.ts";

const USAGE = `Usage: switchyard-agent [-c <FILE>] [-e] [-k <KEY>] [-H <HOST>] [-P <PORT>] [-6] [-l <LEVEL>] [-d]
  [ -h | --help ]: Show this help
  [ -c <FILE> | --config <FILE> ]: Initial configuration file (nftlb JSON)
  [ -e | --exit ]: Apply the configuration file and exit
  [ -k <KEY> | --key <KEY> ]: Authentication key for the web service
  [ -H <HOST> | --host <HOST> ]: Address of the web service (default 127.0.0.1)
  [ -P <PORT> | --port <PORT> ]: Port of the web service (default 5555)
  [ -6 | --ipv6 ]: Listen on IPv6 for the web service
  [ -l <LEVEL> | --log <LEVEL> ]: Log level
  [ -d | --daemonize ]: Run as a daemon
  [ --table <NAME> ]: Name of the agent's own tables (default ${DEFAULT_TABLE})
  [ --check ]: With -e: render and check with nft --check, change nothing
  [ --print ]: With -e: print the nft script that would be applied, change nothing
`;

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
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
        table: { type: "string", default: DEFAULT_TABLE },
        check: { type: "boolean" },
        print: { type: "boolean" },
      },
    }).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!args.exit) {
    process.stderr.write("switchyard-agent: the daemon (REST API) is not available yet; use -c FILE -e to apply a config and exit\n");
    return 2;
  }
  if (args.config === undefined) {
    process.stderr.write(`switchyard-agent: -e needs a configuration file (-c FILE)\n${USAGE}`);
    return 2;
  }
  if (!TABLE_NAME.test(args.table)) {
    process.stderr.write(`switchyard-agent: --table ${JSON.stringify(args.table)}: must be a letter followed by up to 31 letters, digits, '_' or '-'\n`);
    return 2;
  }
  const stopAfter = args.print ? "print" : args.check ? "check" : undefined;
  try {
    const outcome = await applyConfigFile(args.config, {
      table: args.table,
      driver: new NftDriver(execRunner()),
      resolveFacts,
      ...(stopAfter ? { stopAfter } : {}),
    });
    if (stopAfter === "print") process.stdout.write(outcome.script);
    const verb = stopAfter === "check" ? "checked" : stopAfter === "print" ? "rendered" : "applied";
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
  }
}

const exitCode = await main(process.argv.slice(2));
process.exitCode = exitCode;

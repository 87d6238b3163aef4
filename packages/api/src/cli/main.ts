import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { configForNode, formatIssue, toNftlb } from "@switchyard/core";
import { migrate, openDatabase, ROLES, type Database, type Role } from "@switchyard/db";
import { TRPCError } from "@trpc/server";
import { readRevisionConfig } from "../config/revision-store.ts";
import { ChangeRefused, describeError } from "../errors.ts";
import { Deployer } from "../deploy/deployer.ts";
import { nodeLabels } from "../deploy/render.ts";
import { serveControlPlane } from "../http/server.ts";
import { DEFAULT_WEB_DIR, webIsBuilt } from "../http/web.ts";
import { enrollNodes, parseEnrollments } from "../nodes/enroll.ts";
import { createCaller } from "../router.ts";
import { controlPlaneKey, dataDir, DEFAULT_DATA_DIR, type DataDir } from "./data-dir.ts";

const USAGE = `Switchyard control plane

  switchyard serve [-H HOST] [-P PORT] [--public-url URL] [--reconcile SECONDS] [--web DIR | --no-web]
                                                        dashboard and API on 127.0.0.1:3000 (the dashboard
                                                        from apps/web once built: pnpm --filter @switchyard/web build)
        [--enroll NAME=URL]... [--token-dir DIR]        make sure these nodes exist and write each one's token to
                                                        DIR/NAME.token for its agent (env SWITCHYARD_ENROLL, SWITCHYARD_TOKEN_DIR)
        [--canary]                                      stage every deploy: one canary node first (labelled canary=true,
                                                        else the first by name), the others only if it applied
  switchyard migrate                                    apply the committed database migrations
  switchyard user add NAME --role admin|operator|viewer [--password-file FILE]   (else the password is read from stdin)
  switchyard token create NAME --role ROLE [--owner USER]   an API token, shown once
  switchyard node add NAME AGENT_URL [--label KEY=VALUE]... a node; its token is shown once, with the agent's command
  switchyard node labels NAME [KEY=VALUE]...            replace a node's labels (they place farms: x-placement) and deploy
  switchyard import FILE [-m MESSAGE]                   an nftlb JSON config as a new revision
  switchyard export [REVISION] [--node NAME] [--plain]  a revision (default: the latest) as nftlb JSON; --node: only the
                                                        farms placed on that node; --plain: without Switchyard's own
                                                        attributes (x-placement), as nftlb itself loads it
  switchyard revisions [--limit N]                      the newest revisions
  switchyard diff A B                                   what revision B changes in revision A (0: empty)
  switchyard rollback REVISION [--farm NAME] [-m MESSAGE]   the config (or one farm) as it was, as a new revision

Every command takes --data-dir DIR (default $SWITCHYARD_DATA_DIR, else ./${DEFAULT_DATA_DIR}): the SQLite
database and the key node tokens derive from. Commands other than serve act as an admin ("cli:<user>").
`;

class Usage extends Error {}

function options(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: "boolean", short: "h" },
      "data-dir": { type: "string" },
      host: { type: "string", short: "H", default: "127.0.0.1" },
      port: { type: "string", short: "P", default: "3000" },
      "public-url": { type: "string" },
      reconcile: { type: "string", default: "30" },
      role: { type: "string" },
      "password-file": { type: "string" },
      owner: { type: "string" },
      label: { type: "string", multiple: true },
      message: { type: "string", short: "m" },
      farm: { type: "string" },
      limit: { type: "string", default: "20" },
      web: { type: "string" },
      enroll: { type: "string", multiple: true },
      "token-dir": { type: "string" },
      "no-web": { type: "boolean" },
      canary: { type: "boolean" },
      node: { type: "string" },
      plain: { type: "boolean" },
    },
  });
}

const out = (value: unknown) => process.stdout.write(typeof value === "string" ? value : `${JSON.stringify(value, null, 2)}\n`);

async function open(data: DataDir): Promise<Database> {
  await migrate(data.database);
  return openDatabase({ path: data.database });
}

function cliCaller(db: Database, deployer?: Deployer) {
  return createCaller({ db, actor: { id: null, name: `cli:${userInfo().username}`, role: "admin" }, ...(deployer ? { deployer } : {}) });
}

function role(value: string | undefined): Role {
  if (value === undefined || !(ROLES as readonly string[]).includes(value)) throw new Usage(`--role must be one of ${ROLES.join(", ")}`);
  return value as Role;
}

/** KEY=VALUE arguments as labels (nodes.* checks the keys and values). */
function labelArgs(args: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (eq <= 0) throw new Usage(`a label is KEY=VALUE, not ${JSON.stringify(arg)}`);
    labels[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  return labels;
}

const int = (value: string | undefined, what: string): number => {
  if (value === undefined || !/^\d+$/.test(value)) throw new Usage(`${what} must be a whole number`);
  return Number(value);
};

async function readPassword(file: string | undefined): Promise<string> {
  if (file !== undefined) return readFileSync(file, "utf8").replace(/\r?\n$/, "");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = options(argv);
  const [command, sub, ...rest] = positionals;
  if (values.help || command === undefined) {
    out(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  const data = dataDir(values["data-dir"]);
  if (command === "migrate") {
    const result = await migrate(data.database);
    out(result.applied.length === 0 ? `${data.database}: up to date\n` : `${data.database}: applied ${result.applied.join(", ")}\n`);
    return 0;
  }
  const db = await open(data);
  const deployer = new Deployer({ db, key: controlPlaneKey(data), canary: values.canary === true });
  try {
    const api = cliCaller(db, deployer);
    switch (command) {
      case "serve": {
        const port = int(values.port, "-P");
        const webDir = values["no-web"] ? undefined : (values.web ?? DEFAULT_WEB_DIR);
        if (webDir !== undefined && values.web === undefined && !webIsBuilt(webDir)) {
          throw new Usage(`the dashboard in ${webDir} is not built: pnpm --filter @switchyard/web build (or serve the API alone with --no-web)`);
        }
        const enrollments = parseEnrollments([...(values.enroll ?? []), ...(process.env.SWITCHYARD_ENROLL ? [process.env.SWITCHYARD_ENROLL] : [])]);
        if (enrollments.length > 0) {
          const tokenDir = values["token-dir"] ?? process.env.SWITCHYARD_TOKEN_DIR;
          if (tokenDir === undefined) throw new Usage("--enroll needs --token-dir DIR (or SWITCHYARD_TOKEN_DIR): where the agents read their tokens");
          for (const file of await enrollNodes(db, controlPlaneKey(data), enrollments, tokenDir)) process.stderr.write(`switchyard: node token in ${file}\n`);
        }
        const server = await serveControlPlane({ db, deployer, host: values.host, port, ...(webDir !== undefined ? { webDir } : {}), ...(values["public-url"] ? { publicUrl: values["public-url"] } : {}) });
        const interval = int(values.reconcile, "--reconcile");
        if (interval > 0) deployer.start(interval * 1000);
        const users = await db.user.count();
        process.stderr.write(`switchyard: control plane on ${server.url} (data in ${data.dir})\n`);
        process.stderr.write(users === 0 ? `switchyard: no users yet: create the first admin at ${server.url}/login, or bin/switchyard user add admin --role admin --data-dir ${data.dir}\n` : `switchyard: log in at ${server.url} with a user of bin/switchyard user add\n`);
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once("SIGINT", stop);
          process.once("SIGTERM", stop);
        });
        deployer.stop();
        await server.close();
        return 0;
      }
      case "user": {
        if (sub !== "add" || rest[0] === undefined) throw new Usage("switchyard user add NAME --role ROLE");
        const user = await api.users.add({ username: rest[0], role: role(values.role), password: await readPassword(values["password-file"]) });
        out(`user ${user.username} (${user.role}) added\n`);
        return 0;
      }
      case "token": {
        if (sub !== "create" || rest[0] === undefined) throw new Usage("switchyard token create NAME --role ROLE");
        const owner = values.owner ?? (await db.user.findFirst({ where: { role: "admin", disabled: false }, orderBy: { id: "asc" } }))?.username;
        if (owner === undefined) throw new Usage("no admin user to own the token: add one first, or give --owner");
        const token = await api.tokens.create({ name: rest[0], role: role(values.role), owner });
        out(`${token.token}\n`);
        process.stderr.write("switchyard: the token is shown once; give it as Authorization: Bearer <token>\n");
        return 0;
      }
      case "node": {
        if (sub === "labels" && rest[0] !== undefined) {
          const set = await api.nodes.setLabels({ name: rest[0], labels: labelArgs(rest.slice(1)) });
          out(`node ${set.name}: labels ${JSON.stringify(set.labels)}; farms placed on it: ${set.farms.join(", ") || "none"}\n`);
          await deployer.deployLatest();
          return 0;
        }
        if (sub !== "add" || rest[0] === undefined || rest[1] === undefined) throw new Usage("switchyard node add NAME AGENT_URL | node labels NAME [KEY=VALUE]...");
        const labels = labelArgs(values.label ?? []);
        const added = await api.nodes.add({ name: rest[0], url: rest[1], labels });
        out(`${added.token}\n`);
        process.stderr.write(`switchyard: node ${added.node.name} added; its token (above) is shown once. On the node, as root:\n  ${added.agentCommand}\n`);
        return 0;
      }
      case "import": {
        if (sub === undefined) throw new Usage("switchyard import FILE");
        let outcome: { revision: number; changed: boolean; farms: number };
        try {
          outcome = await api.revisions.import({ config: readFileSync(sub, "utf8"), message: values.message ?? `import of ${sub}` });
        } catch (error) {
          if (error instanceof TRPCError && error.cause instanceof ChangeRefused && error.cause.issues.length > 0) {
            process.stderr.write(`switchyard: ${sub} was not imported; nothing was written:\n${error.cause.issues.map((i) => `  ${formatIssue(i)}`).join("\n")}\n`);
            return 1;
          }
          throw error;
        }
        out(outcome.changed ? `imported ${outcome.farms} farm(s) as revision ${outcome.revision}\n` : `nothing to import: revision ${outcome.revision} holds the same config\n`);
        if (outcome.changed) await deployer.deployLatest();
        return 0;
      }
      case "export": {
        const number = sub === undefined ? (await db.revision.findFirst({ orderBy: { number: "desc" } }))?.number : int(sub, "REVISION");
        if (number === undefined) throw new Usage("there is no revision yet");
        let config = await readRevisionConfig(db, number);
        if (config === null) throw new Usage(`revision ${number}: no such revision`);
        if (values.node !== undefined) {
          const node = await db.node.findUnique({ where: { name: values.node }, select: { labels: true } });
          if (node === null) throw new Usage(`node "${values.node}": no such node`);
          config = configForNode(config, nodeLabels(node.labels));
        }
        out(toNftlb(config, { extensions: values.plain !== true }));
        return 0;
      }
      case "revisions": {
        for (const r of await api.revisions.list({ limit: int(values.limit, "--limit") })) {
          out(`${String(r.number).padStart(6)}  ${r.createdAt.toISOString()}  ${r.authorName.padEnd(16)}  ${r.kind.padEnd(8)}  ${r.message}\n`);
        }
        return 0;
      }
      case "diff": {
        const diff = await api.revisions.diff({ from: int(sub, "A"), to: int(rest[0], "B") });
        out(diff);
        return 0;
      }
      case "rollback": {
        const outcome = await api.revisions.rollback({ to: int(sub, "REVISION"), ...(values.farm ? { farm: values.farm } : {}), ...(values.message ? { message: values.message } : {}) });
        out(outcome.changed ? `revision ${outcome.revision} rolls back to revision ${sub}\n` : `nothing to roll back: the config is already as it was in revision ${sub}\n`);
        if (outcome.changed) await deployer.deployLatest();
        return 0;
      }
      default:
        throw new Usage(`unknown command ${command}`);
    }
  } finally {
    await db.$disconnect();
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (error) {
    if (error instanceof Usage || (error instanceof TypeError && (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS"))) {
      process.stderr.write(`switchyard: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof TRPCError) {
      process.stderr.write(`switchyard: ${describeError(error)}\n`);
      return 1;
    }
    process.stderr.write(`switchyard: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));

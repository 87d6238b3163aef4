// The benchmark's last line of defence. run.ts starts this in its own session and tells it,
// line by line on stdin, the prefix of every lab it creates ("prefix sy-3f9a1c") and its
// temporary directory ("dir /tmp/sybench-..."). When stdin closes (the run ended, or was
// killed: e.g. tsx SIGKILLs its child when Ctrl-C finds the child busy in a synchronous
// cleanup), it kills the processes still inside those namespaces (by pid), deletes the
// namespaces and the directory. It touches nothing it was not told about, and always exits.
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";

const prefixes = new Set();
const dirs = new Set();
let done = false;
let buffered = "";

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => {});

const run = (argv) => {
  try {
    return execFileSync(argv[0], argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 });
  } catch {
    return "";
  }
};

function reap() {
  let deleted = 0;
  const namespaces = run(["ip", "netns", "list"])
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((ns) => [...prefixes].some((p) => ns.startsWith(`${p}-`)));
  for (const ns of namespaces) {
    for (const pid of run(["ip", "netns", "pids", ns]).split(/\s+/).filter((p) => /^\d+$/.test(p))) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // gone already
      }
    }
  }
  for (const ns of namespaces) {
    run(["ip", "netns", "del", ns]);
    deleted++;
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  if (deleted > 0) process.stderr.write(`bench:dataplane reaper: the run ended without cleaning up; deleted ${deleted} namespace(s) it had created\n`);
}

process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  buffered += chunk;
  let nl;
  while ((nl = buffered.indexOf("\n")) >= 0) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    const [word, arg] = [line.slice(0, line.indexOf(" ")), line.slice(line.indexOf(" ") + 1)];
    if (line === "done") done = true;
    else if (word === "prefix" && /^[a-z0-9-]+$/.test(arg)) prefixes.add(arg);
    else if (word === "dir" && arg.startsWith("/tmp/sybench-")) dirs.add(arg);
  }
});
process.stdin.on("end", () => {
  // After a clean run this finds nothing; after a killed one, give the dying run's own
  // cleanup a moment, then finish it.
  setTimeout(
    () => {
      reap();
      process.exit(0);
    },
    done ? 0 : 1000,
  );
});

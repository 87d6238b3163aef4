// Ends the fleet that global-setup started (by its pid), and waits until its namespaces are gone.
export default async function globalTeardown(): Promise<void> {
  const pid = Number(process.env.E2E_FLEET_PID);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return; // already gone
  }
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  process.kill(pid, "SIGKILL");
}

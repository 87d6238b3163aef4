import { describe, expect, it } from "vitest";
import { bindLibs, LIBRARIES, loadError, loadLibs } from "./ffi.ts";

// No kernel here: only whether the bindings load (koffi's prebuilt binary, libnftnl, libmnl).
describe("netlink bindings", () => {
  it("load koffi, libnftnl and libmnl (koffi's install script is not run: allowBuilds koffi: false)", () => {
    expect(loadLibs(), loadError).not.toBeNull();
  });

  it("give null with the reason, and no exception, when a library is missing", () => {
    expect(bindLibs({ ...LIBRARIES, nftnl: "libnftnl-missing.so.99" })).toBeNull();
    expect(loadError).toMatch(/Failed to load shared library/);
  });
});

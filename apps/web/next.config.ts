import { fileURLToPath } from "node:url";
import type { NextConfig } from "next";

const config: NextConfig = {
  // core's schemas validate forms in the browser: the same zod the API validates with.
  transpilePackages: ["@switchyard/core"],
  poweredByHeader: false,
  reactStrictMode: true,
  // The workspace root, so that Turbopack resolves the packages linked from there.
  turbopack: { root: fileURLToPath(new URL("../..", import.meta.url)) },
};

export default config;

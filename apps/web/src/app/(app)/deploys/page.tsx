import type { Metadata } from "next";
import { Deploys } from "./deploys";

export const metadata: Metadata = { title: "Deploys" };

export default function DeploysPage() {
  return <Deploys />;
}

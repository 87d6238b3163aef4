import type { Metadata } from "next";
import { Nodes } from "./nodes";

export const metadata: Metadata = { title: "Nodes" };

export default function NodesPage() {
  return <Nodes />;
}

import type { Metadata } from "next";
import { Timeline } from "./timeline";

export const metadata: Metadata = { title: "Revisions" };

export default function RevisionsPage() {
  return <Timeline />;
}

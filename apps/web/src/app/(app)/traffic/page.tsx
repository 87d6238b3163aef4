import type { Metadata } from "next";
import { Traffic } from "./traffic";

export const metadata: Metadata = { title: "Traffic" };

export default function TrafficPage() {
  return <Traffic />;
}

import type { Metadata } from "next";
import { FarmEditor } from "../farm-editor";

export const metadata: Metadata = { title: "New farm" };

export default function NewFarmPage() {
  return <FarmEditor />;
}

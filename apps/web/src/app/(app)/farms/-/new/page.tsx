import type { Metadata } from "next";
import { FarmEditor } from "../../farm-editor";

// Under /farms/-/: no farm can be named "-" (a name starts with a letter, digit or "_"), so this
// page never hides one, as /farms/new hid a farm named "new".

export const metadata: Metadata = { title: "New farm" };

export default function NewFarmPage() {
  return <FarmEditor />;
}

import type { Metadata } from "next";
import { FarmEditor } from "../farm-editor";

type Props = { params: Promise<{ name: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Farm ${decodeURIComponent((await params).name)}` };
}

export default async function FarmPage({ params }: Props) {
  return <FarmEditor name={decodeURIComponent((await params).name)} />;
}

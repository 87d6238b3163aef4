"use client";
import { useEffect, useState } from "react";
import { Button } from "./button";

/**
 * Copies `text` to the clipboard. The Clipboard API exists only in secure contexts (https or
 * localhost); a control plane reached over plain http elsewhere falls back to a hidden
 * textarea and execCommand, and if even that fails the button says so (the text stays
 * selectable beside it).
 */
async function copy(text: string): Promise<boolean> {
  if (typeof navigator !== "undefined" && navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // fall through to the old way
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  } finally {
    area.remove();
  }
}

export function CopyButton({ text, label = "Copy", className }: { text: string; label?: string; className?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state === "idle") return;
    const timer = setTimeout(() => setState("idle"), 2_500);
    return () => clearTimeout(timer);
  }, [state]);
  return (
    <Button type="button" variant="secondary" size="sm" className={className} onClick={() => void copy(text).then((ok) => setState(ok ? "copied" : "failed"))}>
      <span aria-live="polite">{state === "copied" ? "Copied" : state === "failed" ? "Copy failed: select the text" : label}</span>
    </Button>
  );
}

import type { ComponentProps, ReactNode } from "react";
import { cn } from "@/lib/cn";

// The dashboard's data tables share a frame (a caption that names the table for screen readers
// and getByRole("table", { name }), a small grey header row, rows ruled off from one another);
// what differs is spacing and colour, which each table passes in className and which wins over
// the defaults here (cn keeps the later of two Tailwind utilities of the same kind).

/**
 * A table named by its caption (visually hidden unless captionClassName says otherwise), in a
 * box that scrolls sideways on a narrow screen; `bare` leaves the box out where the table sits
 * in something that scrolls already or is itself a detail of a row.
 */
export function Table({
  caption,
  captionClassName = "sr-only",
  className,
  wrapperClassName,
  bare = false,
  children,
  ...props
}: ComponentProps<"table"> & { caption: ReactNode; captionClassName?: string; wrapperClassName?: string; bare?: boolean }) {
  const table = (
    <table className={cn("w-full text-left text-sm", className)} {...props}>
      <caption className={captionClassName}>{caption}</caption>
      {children}
    </table>
  );
  return bare ? table : <div className={cn("overflow-x-auto", wrapperClassName)}>{table}</div>;
}

/** The header row: its cells are Th. */
export function THead({ className, children }: { className?: string; children: ReactNode }) {
  return (
    <thead className={cn("text-xs text-zinc-500", className)}>
      <tr>{children}</tr>
    </thead>
  );
}

/** A column header. */
export function Th({ className, ...props }: ComponentProps<"th">) {
  return <th scope="col" className={cn("font-medium", className)} {...props} />;
}

/** A row's header cell: what the row is about (a user's name, a field). */
export function RowTh({ className, ...props }: ComponentProps<"th">) {
  return <th scope="row" className={cn("text-left font-medium", className)} {...props} />;
}

/** A body row, ruled off from the row above it. */
export function Tr({ className, ...props }: ComponentProps<"tr">) {
  return <tr className={cn("border-t border-zinc-100 dark:border-zinc-800", className)} {...props} />;
}

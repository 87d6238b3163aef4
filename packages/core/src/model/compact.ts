// What the agent keeps for every farm at 10,000 farms (the config, the IR, the memos and
// indexes over them) is mostly small strings and short arrays, and V8's defaults for those
// cost several times their content: a string built by concatenation (every template literal
// of 13 characters or more) is a rope of its parts until something reads it whole, and an
// array grown by push from empty reserves room for 17 elements. These helpers give the long-
// lived ones their plain size. Each returns a value equal to its argument: callers cannot tell.

/**
 * The same text as one flat string, not a rope of the pieces it was concatenated from (a
 * rope of a rule statement holds every piece and a node per concatenation: about twice the
 * text). Reading a character is what makes V8 flatten a rope in place; the nodes it leaves
 * behind are dropped by the next young-generation GC. For texts that are unique (a farm's
 * rule, its counter names): flattening is cheaper than intern().
 */
export function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}

// A dictionary-mode object: a property name set on it is internalized by V8 (one copy of
// each text for the whole process, in V8's own string table, which forgets texts nothing
// holds any more), and for-in hands that copy back.
const internTable: Record<string, number> = Object.create(null) as Record<string, number>;
internTable.x = 0;
delete internTable.x;

/**
 * The text as V8's one shared, flat copy of it: for a text that many farms hold (the four
 * backend addresses of 10,000 farms, a selector rule that is the same for every farm of one
 * scheduler). About 1 µs: meant for what is kept, not for what is built and dropped.
 */
export function intern(text: string): string {
  internTable[text] = 0;
  let out = text;
  // One key in the table: the loop runs once. (A text that reads as an array index comes
  // back as a fresh string, equal to it; those are short.)
  for (const key in internTable) out = key;
  delete internTable[text];
  return out;
}

/** An array with no room reserved past its elements (a copy when it has some), for arrays that are kept. */
export function exact<T>(items: T[]): T[] {
  return items.slice();
}

// The record shapes the data rows send: nested is the peer benchmark's, flat is dicts10k's.

export const nestedRecords = (n) =>
  Array.from({ length: n }, (_, i) => ({ id: i, name: `item-${i}`, tags: ["a", "b", `t${i % 7}`] }));

export const flatRecords = (n) => Array.from({ length: n }, (_, i) => ({ id: i, name: `row-${i}`, score: i / 7 }));

/** Throws unless `back` is an echo of nested records `rows`. */
export function checkNested(rows, back) {
  const k = Math.min(42, rows.length - 1);
  const ok = back?.length === rows.length && back[k].name === rows[k].name && back[k].tags?.join() === rows[k].tags.join();
  if (!ok) throw new Error("echo(records) came back wrong");
}

// Object builders per key list, for the decoder. A list of records repeats
// one key list thousands of times; building each object key by key goes
// through V8's megamorphic keyed stores (the decoder sees every key of every
// shape), while an object literal with those keys is made from one
// boilerplate at allocation speed. So once a key list repeats within a
// message, the decoder gets a small generated function that returns that
// literal, filled from its value stack. Generated code needs `new Function`;
// where code generation from strings is disallowed (a CSP, or
// --disallow-code-generation-from-strings) the decoder builds objects key by
// key as before. Same objects either way (own, enumerable, writable data
// properties in wire order); "__proto__" never goes through a literal.
//
// The encoder has the mirror image: reading v[k] for every key of every
// record is a megamorphic keyed load too, so a key list that repeats within
// a message gets a generated function that reads its fields by name (one
// map per load site: monomorphic) onto the encoder's stack, in key order.
// So all of a record's fields are read before its first value is written:
// the getters of its nested values run after all of its own getters, not
// between them (its own run in key order either way).

/** Builds the object of one key list from `stack[base + 1], stack[base + 3], ...` (keys at the even slots). */
export type Build = (stack: unknown[], base: number) => Record<string, unknown>;

/** A dict with more keys than this is built key by key. */
export const MAX_SHAPE_KEYS = 32;
/** A key list is given a builder once this many dicts of a message had it. */
const HITS_BEFORE_BUILD = 4;
/** Key lists longer than this in all (UTF-16 units) are built key by key: no huge generated source. */
const MAX_SHAPE_TEXT = 1024;
/** Builders kept across messages (by key list); the cache starts over past this. */
const MAX_BUILDERS = 1024;

const builders = new Map<string, Build>();
let codegen = true;

/**
 * The generated function of a key list in `cache`, made by `make` the first
 * time; null where there can be none: code generation disallowed (found
 * once, for good), a "__proto__" key, or key text past MAX_SHAPE_TEXT.
 */
function generated<T>(cache: Map<string, T>, names: readonly string[], make: () => T): T | null {
  if (!codegen || names.includes("__proto__")) return null;
  let text = 0;
  for (const name of names) text += name.length;
  if (text > MAX_SHAPE_TEXT) return null;
  const id = JSON.stringify(names);
  const found = cache.get(id);
  if (found !== undefined) return found;
  let fn: T;
  try {
    fn = make();
  } catch {
    codegen = false;
    return null;
  }
  if (cache.size >= MAX_BUILDERS) cache.clear();
  cache.set(id, fn);
  return fn;
}

// JSON string literals are JS string literals, so any key text is safe in the sources below.
function builderFor(names: readonly string[]): Build | null {
  return generated(builders, names, () => {
    const fields = names.map((name, i) => `${JSON.stringify(name)}: s[b + ${2 * i + 1}]`).join(", ");
    return new Function("s", "b", `"use strict"; return { ${fields} };`) as Build;
  });
}

// The root's key list: an empty array of the kind the others are
// (strings). A `[]` is made for small integers, and copying it where V8 had
// seen string arrays threw away the decoder's optimized dict() at each
// message's first record.
const NO_NAMES: readonly string[] = (() => {
  const names = [""];
  names.length = 0;
  return names;
})();

/**
 * One node of a message's trie of key lists: the path from the root is the
 * keys (by their index in the message's key table) in wire order. Records of
 * one list walk the same path, so each step is usually one comparison.
 */
export class Shape {
  private key = -1;
  private child: Shape | undefined;
  private others: Map<number, Shape> | undefined;
  private hits = 0;
  /** undefined: not decided yet; null: build key by key. */
  private build: Build | null | undefined;

  constructor(private readonly names: readonly string[] = NO_NAMES) {}

  /** The node one key further. */
  next(keyIndex: number, name: string): Shape {
    if (this.key === keyIndex) return this.child!;
    if (this.child === undefined) {
      this.key = keyIndex;
      return (this.child = new Shape([...this.names, name]));
    }
    this.others ??= new Map();
    let node = this.others.get(keyIndex);
    if (node === undefined) this.others.set(keyIndex, (node = new Shape([...this.names, name])));
    return node;
  }

  /** The builder for a dict that ended at this node, once the key list has repeated; else null. */
  builder(): Build | null {
    if (this.build !== undefined) return this.build;
    if (++this.hits < HITS_BEFORE_BUILD) return null;
    return (this.build = builderFor(this.names));
  }
}

/** A field read by a Fields function threw: the error and the index of its key. */
export class FieldError {
  constructor(
    readonly error: unknown,
    readonly index: number,
  ) {}
}

/** Reads the fields of one key list from o onto `stack[base]`, `stack[base + 1]`, ... in key order. */
export type Fields = (o: object, stack: unknown[], base: number) => void;

const readers = new Map<string, Fields>();

/** The field reader of a key list, or null where it cannot have one (as builderFor). */
export function fieldsFor(names: readonly string[]): Fields | null {
  if (names.length > MAX_SHAPE_KEYS) return null;
  return generated(readers, names, () => {
    const reads = names.map((name, i) => `s[b + ${i}] = o[${JSON.stringify(name)}]; i = ${i + 1};`).join(" ");
    const source = `"use strict"; return function (o, s, b) { let i = 0; try { ${reads} } catch (e) { throw new FieldError(e, i); } };`;
    return new Function("FieldError", source)(FieldError) as Fields;
  });
}

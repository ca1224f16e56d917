// Child script: sends malformed wire payloads straight to the native addon's
// callWire (JS's own encoder never makes them), then a good call. Prints one
// line per payload: "<name> <error name> <code> <message>", then "alive <n>".
// Before the fix a bad count aborted the whole process.
// Usage: node malformed-wire.mjs [payload name]
const { createBridge } = await import(new URL("../../dist/index.js", import.meta.url).href);

const u32 = (n) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const f64 = (x) => [...new Uint8Array(new Float64Array([x]).buffer)];
const list = (n) => [7, ...u32(n)];

// [args, kwargs]: two values one after the other, args a list.
const payloads = {
  "ref-path-count": [...list(1), 12, ...f64(1), ...u32(0xffffffff), 0],
  "ref-id-nan": [...list(1), 12, ...f64(NaN), ...u32(0), 0],
  "list-count": [...list(0xffffffff), 0],
  "dict-count": [...list(1), 8, ...u32(0x7fffffff), 0],
  "map-count": [...list(1), 9, ...u32(0x80000000), 0],
  "str-length": [...list(1), 5, ...u32(0xfffffff0), 65, 0],
  "str16-length": [...list(1), 15, ...u32(0xffffffff), 65, 0],
  "bytes-length": [...list(1), 6, ...u32(0xfffffffe)],
  "side-index": [...list(1), 6, ...u32(0xffffffff), ...u32(3), 0],
  "typed-length": [...list(1), 13, 100, ...u32(0x7fffffff)],
  "key-ref": [...list(1), 8, ...u32(1), 16, ...u32(5), 0, 0],
  "bigint-digits": [...list(1), 3, ...u32(4), 0x66, 0x66, 0, 0x7a, 0],
  "unknown-tag": [...list(1), 99, 0],
  "json-length": [...list(1), 20, ...u32(0xfffffff0), 0x5b, 0],
  "json-text": [...list(1), 20, ...u32(4), 0x5b, 0x31, 0x2c, 0x5d, 0],
  "json-trailing": [...list(1), 20, ...u32(3), 0x31, 0x20, 0x78, 0],
  "truncated": [...list(1), 2, 1, 2],
  deep: [...Array.from({ length: 100000 }, () => list(1)).flat(), 0, 0],
  empty: [],
};

const bridge = createBridge({ mode: "native" });
const builtins = await bridge.python("builtins");
const session = bridge.session;
const ref = builtins[session.refSymbol];
const native = session.backend.native;
const only = process.argv[2];
for (const [name, bytes] of Object.entries(payloads)) {
  if (only && name !== only) continue;
  try {
    const result = await native.callWire(ref, ["repr"], new Uint8Array(bytes));
    console.log(`${name} resolved ${JSON.stringify(result)}`);
  } catch (error) {
    console.log(`${name} ${error.name} ${error.code ?? error.pythonType} ${error.message.split("\n")[0]}`);
  }
}
console.log(`alive ${await builtins.len([1, 2, 3])}`);
await bridge.shutdown();

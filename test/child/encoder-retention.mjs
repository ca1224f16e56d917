// Child script (node --expose-gc): the encoder reads the fields of repeated
// records ahead onto its own stack (src/record-shapes.ts); a value read so
// must not stay reachable from the encoder after the frame, normal or failed.
// The decoders share one value stack (src/codec.ts): a value decoded onto it
// must not stay reachable from it after value() returns or throws.
// Prints one JSON line: { normal, failed, decoded, decodeFailed } (true: collected).
const { Encoder, Decoder } = await import(new URL("../../dist/codec.js", import.meta.url).href);
const encoder = new Encoder(() => undefined);

function encodeWith(last, bad) {
  const rows = Array.from({ length: 10 }, (_, i) => ({ id: i, v: i === 9 ? last : [i], w: bad && i === 9 ? Symbol("s") : i }));
  try {
    encoder.encode([rows], ["value"]);
  } catch {}
}

function watched(bad) {
  const big = { payload: new Array(10_000).fill(7) };
  encodeWith(big, bad);
  return new WeakRef(big);
}

async function collected(ref) {
  await new Promise((resolve) => setTimeout(resolve, 0)); // WeakRef targets live to the end of the job
  for (let i = 0; i < 3; i++) globalThis.gc();
  return ref.deref() === undefined;
}

// A list of [a proxy, then None or a tag no decoder knows]: the wrap hook's
// object is on the value stack when the list's next item is read.
function decodedWatched(bad) {
  const bytes = new Uint8Array(1 + 4 + 1 + 8 + 4 + 1 + 1);
  const view = new DataView(bytes.buffer);
  bytes[0] = 7; // List
  view.setUint32(1, 2, true);
  bytes[5] = 12; // Ref: f64 id, u32 type index, u8 described (0)
  view.setFloat64(6, 1, true);
  view.setUint32(14, 1, true);
  bytes[18] = 0;
  bytes[19] = bad ? 99 : 0; // an unknown tag, or None
  let made;
  const wrap = () => (made = { payload: new Array(10_000).fill(7) });
  try {
    new Decoder(bytes, wrap).value();
  } catch {}
  return new WeakRef(made);
}

// Each checked before the next encode, which would overwrite what the last one left.
const normal = await collected(watched(false));
const failed = await collected(watched(true));
const decoded = await collected(decodedWatched(false));
const decodeFailed = await collected(decodedWatched(true));
console.log(JSON.stringify({ normal, failed, decoded, decodeFailed }));

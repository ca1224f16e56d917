// Child script (node --expose-gc): the encoder reads the fields of repeated
// records ahead onto its own stack (src/record-shapes.ts); a value read so
// must not stay reachable from the encoder after the frame, normal or failed.
// Prints one JSON line: { normal, failed } (true: collected).
const { Encoder } = await import(new URL("../../dist/codec.js", import.meta.url).href);
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

// Each checked before the next encode, which would overwrite what the last one left.
const normal = await collected(watched(false));
const failed = await collected(watched(true));
console.log(JSON.stringify({ normal, failed }));

// JSON text of a value in chunks, byte for byte what JSON.stringify(value) returns, without ever holding
// the whole text. A 25M-rating model is a 155 MB document: JSON.stringify built it as one string (and
// fs.writeFile then a Buffer of it), which made the model write the peak of `movierec train`'s memory.
// Deliberately hand-written: the streaming JSON libraries on npm either parse only or serialise through
// their own number and key rules; matching JSON.stringify exactly keeps every written model unchanged.

/** Elements stringified at once: long arrays of numbers are cut into runs of this many. */
const SLICE = 16_384;
/** Chunks handed out are about this long (characters), so the file stream gets few large writes. */
const CHUNK = 1 << 20;

/** Containers are walked (so long arrays can be cut); everything else is JSON.stringify'd whole. */
function walkable(v: unknown): v is object {
  if (v === null || typeof v !== 'object') return false;
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return false; // Date and friends
  if (ArrayBuffer.isView(v)) return false; // typed arrays stringify as objects: leave that to JSON.stringify
  const proto = Object.getPrototypeOf(v);
  return Array.isArray(v) || proto === Object.prototype || proto === null;
}

/** What JSON.stringify drops from an object (and writes as null in an array). */
function skipped(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

function* parts(v: unknown): Generator<string> {
  if (!walkable(v)) {
    yield JSON.stringify(v) ?? 'null';
    return;
  }
  if (Array.isArray(v)) {
    yield '[';
    for (let i = 0; i < v.length; i += SLICE) {
      const end = Math.min(v.length, i + SLICE);
      let flat = true;
      for (let j = i; j < end && flat; j++) flat = !walkable(v[j]);
      if (i > 0) yield ',';
      if (flat) {
        // copied by push into a fresh array, which V8 keeps packed: JSON.stringify of a holey slice (what a
        // presized `new Array(n)` gives) takes twice as long; a hole becomes undefined, written null as before
        const run: unknown[] = [];
        for (let j = i; j < end; j++) run.push(v[j]);
        yield JSON.stringify(run).slice(1, -1);
        continue;
      }
      for (let j = i; j < end; j++) {
        if (j > i) yield ',';
        yield* parts(v[j]);
      }
    }
    yield ']';
    return;
  }
  yield '{';
  let first = true;
  for (const key of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[key];
    if (skipped(x)) continue;
    yield (first ? '' : ',') + JSON.stringify(key) + ':';
    first = false;
    yield* parts(x);
  }
  yield '}';
}

/** The text of JSON.stringify(value) in chunks of about a megabyte (an undefined value gives no chunks). */
export function* jsonChunks(value: unknown): Generator<string> {
  if (skipped(value)) return;
  let buf = '';
  for (const p of parts(value)) {
    buf += p;
    if (buf.length >= CHUNK) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
}

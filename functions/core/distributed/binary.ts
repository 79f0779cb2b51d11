// The binary container every intermediate file of a distributed training uses (shards, fragments,
// partial sums, labels): a small JSON header and named typed-array sections, each 8-byte aligned, so a
// reader can fetch the header and then only the sections it needs (ranged GETs), and views need no copy.
//
//   "MRB1" | u32 header length | header JSON (utf-8) | padding to 8 | section 0 | padding | section 1 …
//
// Little-endian, as every typed array on the platforms Lambda and Node run on. Hand-written: the formats
// of libraries that would fit (Arrow, protobuf, msgpack) either copy every array or need a schema step,
// and these files live minutes, are written and read by this code only.

export type SectionArray = Float64Array | Float32Array | Int32Array | Uint32Array | Uint8Array | Uint16Array;
export type SectionType = 'f64' | 'f32' | 'i32' | 'u32' | 'u8' | 'u16';

export interface SectionInfo {
  type: SectionType;
  /** byte offset from the start of the file */
  offset: number;
  /** elements */
  length: number;
}

export interface ContainerHeader<M = unknown> {
  meta: M;
  sections: Record<string, SectionInfo>;
}

const MAGIC = 0x3142524d; // "MRB1"
const CTORS = {
  f64: Float64Array,
  f32: Float32Array,
  i32: Int32Array,
  u32: Uint32Array,
  u8: Uint8Array,
  u16: Uint16Array,
} as const;

function typeOf(a: SectionArray): SectionType {
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Int32Array) return 'i32';
  if (a instanceof Uint32Array) return 'u32';
  if (a instanceof Uint16Array) return 'u16';
  return 'u8';
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** One buffer holding `meta` and the sections (in the given order). */
export function encode<M>(meta: M, sections: Record<string, SectionArray> = {}): Uint8Array {
  const names = Object.keys(sections);
  // the header states absolute offsets, which depend on its own length: lay out with a reserved length until
  // the JSON fits it (the length only grows from pass to pass, so this settles; one more digit in an offset
  // can take several passes), then pad the JSON with spaces to the reserved length
  let headerBytes = 0;
  let header: ContainerHeader<M> = { meta, sections: {} };
  for (let pass = 0; ; pass++) {
    if (pass === 32) throw new Error('binary container: header layout did not settle');
    let at = align8(8 + headerBytes);
    const infos: Record<string, SectionInfo> = {};
    for (const name of names) {
      const a = sections[name];
      infos[name] = { type: typeOf(a), offset: at, length: a.length };
      at = align8(at + a.byteLength);
    }
    header = { meta, sections: infos };
    const len = Buffer.byteLength(JSON.stringify(header), 'utf8');
    if (len <= headerBytes) break;
    headerBytes = len;
  }
  const text = JSON.stringify(header);
  const json = Buffer.from(text + ' '.repeat(headerBytes - Buffer.byteLength(text, 'utf8')), 'utf8');
  let total = align8(8 + json.length);
  for (const name of names) total = align8(header.sections[name].offset + sections[name].byteLength);
  if (names.length === 0) total = 8 + json.length;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, json.length, true);
  out.set(json, 8);
  for (const name of names) {
    const a = sections[name];
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), header.sections[name].offset);
  }
  return out;
}

/** Length of the header prefix (magic, length, JSON) given at least the first 8 bytes. */
export function headerLength(first8: Uint8Array): number {
  const dv = new DataView(first8.buffer, first8.byteOffset, 8);
  if (dv.getUint32(0, true) !== MAGIC) throw new Error('not a movierec binary container (bad magic)');
  return 8 + dv.getUint32(4, true);
}

export function decodeHeader<M>(prefix: Uint8Array): ContainerHeader<M> {
  const len = headerLength(prefix);
  if (prefix.length < len) throw new Error(`binary container: header needs ${len} bytes, got ${prefix.length}`);
  return JSON.parse(Buffer.from(prefix.buffer as ArrayBuffer, prefix.byteOffset + 8, len - 8).toString('utf8')) as ContainerHeader<M>;
}

/** A typed view of section bytes (copied when they are not aligned for the type). */
export function viewSection(info: SectionInfo, bytes: Uint8Array, byteOffsetInBytes = 0): SectionArray {
  const Ctor = CTORS[info.type];
  const size = Ctor.BYTES_PER_ELEMENT;
  const at = bytes.byteOffset + byteOffsetInBytes;
  if (at % size === 0) return new Ctor(bytes.buffer as ArrayBuffer, at, info.length);
  const copy = new Uint8Array(info.length * size);
  copy.set(bytes.subarray(byteOffsetInBytes, byteOffsetInBytes + info.length * size));
  return new Ctor(copy.buffer, 0, info.length);
}

/** A whole container in memory. */
export class Container<M = unknown> {
  readonly header: ContainerHeader<M>;
  constructor(readonly bytes: Uint8Array) {
    this.header = decodeHeader<M>(bytes);
  }
  get meta(): M {
    return this.header.meta;
  }
  has(name: string): boolean {
    return name in this.header.sections;
  }
  private get(name: string): SectionArray {
    const info = this.header.sections[name];
    if (!info) throw new Error(`binary container has no section "${name}"`);
    return viewSection(info, this.bytes, info.offset);
  }
  f64(name: string): Float64Array {
    return this.get(name) as Float64Array;
  }
  f32(name: string): Float32Array {
    return this.get(name) as Float32Array;
  }
  i32(name: string): Int32Array {
    return this.get(name) as Int32Array;
  }
  u32(name: string): Uint32Array {
    return this.get(name) as Uint32Array;
  }
  u16(name: string): Uint16Array {
    return this.get(name) as Uint16Array;
  }
  u8(name: string): Uint8Array {
    return this.get(name) as Uint8Array;
  }
}

/** Byte range [start, end) of one section (for a ranged read), and of elements [from, to) of it. */
export function sectionRange(info: SectionInfo, from = 0, to = info.length): { start: number; end: number } {
  const size = CTORS[info.type].BYTES_PER_ELEMENT;
  return { start: info.offset + from * size, end: info.offset + to * size };
}

export function sectionCtor(type: SectionType) {
  return CTORS[type];
}

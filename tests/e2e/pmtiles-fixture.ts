// A tiny PMTiles v3 archive of vector tiles, written here for the end-to-end tests (no network,
// no tool): a protocol-buffer writer just big enough for a Mapbox Vector Tile, the PMTiles tile
// id (Hilbert curve), and the archive's header and root directory (no compression).
/** Protocol-buffer writer, just what a Mapbox Vector Tile needs. */
class Pbf {
  bytes: number[] = [];
  varint(n: number) {
    while (n > 0x7f) {
      this.bytes.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    this.bytes.push(n);
    return this;
  }
  key(field: number, wire: number) {
    return this.varint((field << 3) | wire);
  }
  message(field: number, body: Pbf) {
    this.key(field, 2).varint(body.bytes.length);
    this.bytes.push(...body.bytes);
    return this;
  }
  string(field: number, text: string) {
    const b = Buffer.from(text, 'utf8');
    this.key(field, 2).varint(b.length);
    this.bytes.push(...b);
    return this;
  }
  packed(field: number, values: number[]) {
    const body = new Pbf();
    values.forEach((v) => body.varint(v));
    return this.message(field, body);
  }
}

const zigzag = (n: number) => (n << 1) ^ (n >> 31);

/** A square polygon from (x0, y0) to (x1, y1) in tile units (0..4096). */
function squareGeometry(x0: number, y0: number, x1: number, y1: number): number[] {
  const moveTo = (1 & 0x7) | (1 << 3);
  const lineTo = (2 & 0x7) | (3 << 3);
  const close = (7 & 0x7) | (1 << 3);
  return [
    moveTo, zigzag(x0), zigzag(y0),
    lineTo, zigzag(x1 - x0), 0, 0, zigzag(y1 - y0), zigzag(x0 - x1), 0,
    close,
  ];
}

/** A vector tile: land ("earth") everywhere, and water in its top-left quarter. */
export function vectorTile(): Buffer {
  const layer = (name: string, geometry: number[]) => {
    const feature = new Pbf().key(3, 0).varint(3).packed(4, geometry); // type 3: polygon
    return new Pbf().key(15, 0).varint(2).string(1, name).message(2, feature).key(5, 0).varint(4096);
  };
  const tile = new Pbf()
    .message(3, layer('earth', squareGeometry(0, 0, 4096, 4096)))
    .message(3, layer('water', squareGeometry(0, 0, 2048, 2048)));
  return Buffer.from(tile.bytes);
}

/** The PMTiles tile id of (z, x, y): tiles of lower zooms first, then a Hilbert curve. */
export function tileId(z: number, x: number, y: number): number {
  let acc = 0;
  for (let i = 0; i < z; i++) acc += 4 ** i;
  const n = 2 ** z;
  let d = 0;
  for (let s = n / 2; s >= 1; s /= 2) {
    const rx = (x & s) > 0 ? 1 : 0;
    const ry = (y & s) > 0 ? 1 : 0;
    d += s * s * ((3 * rx) ^ ry);
    if (ry === 0) {
      if (rx === 1) {
        x = n - 1 - x;
        y = n - 1 - y;
      }
      [x, y] = [y, x];
    }
  }
  return acc + d;
}

/** A PMTiles v3 archive (no compression) holding `tile` at every (z, x, y) of `tiles`. */
export function pmtilesArchive(tiles: [number, number, number][], tile: Buffer, bounds: number[]): Buffer {
  const ids = [...new Set(tiles.map(([z, x, y]) => tileId(z, x, y)))].sort((a, b) => a - b);
  // Every entry points at the one copy of the tile: offset 0, written as offset + 1 (a 0 would
  // mean "right after the previous tile").
  const root = new Pbf().varint(ids.length);
  let last = 0;
  for (const id of ids) {
    root.varint(id - last);
    last = id;
  }
  ids.forEach(() => root.varint(1));
  ids.forEach(() => root.varint(tile.length));
  ids.forEach(() => root.varint(1));
  const rootBytes = Buffer.from(root.bytes);
  const metadata = Buffer.from(JSON.stringify({ name: 'caremap e2e fixture' }));
  const header = Buffer.alloc(127);
  header.write('PMTiles', 0, 'ascii');
  header.writeUInt8(3, 7);
  const rootOffset = 127;
  const metaOffset = rootOffset + rootBytes.length;
  const dataOffset = metaOffset + metadata.length;
  const u64 = (at: number, v: number) => header.writeBigUInt64LE(BigInt(v), at);
  u64(8, rootOffset);
  u64(16, rootBytes.length);
  u64(24, metaOffset);
  u64(32, metadata.length);
  u64(40, dataOffset + tile.length); // no leaf directories
  u64(48, 0);
  u64(56, dataOffset);
  u64(64, tile.length);
  u64(72, ids.length); // addressed tiles
  u64(80, ids.length); // tile entries
  u64(88, 1); // distinct tile contents
  header.writeUInt8(0, 96); // not clustered
  header.writeUInt8(1, 97); // internal compression: none
  header.writeUInt8(1, 98); // tile compression: none
  header.writeUInt8(1, 99); // tile type: MVT
  const zooms = tiles.map(([z]) => z);
  header.writeUInt8(Math.min(...zooms), 100);
  header.writeUInt8(Math.max(...zooms), 101);
  const [west, south, east, north] = bounds;
  header.writeInt32LE(Math.round(west * 1e7), 102);
  header.writeInt32LE(Math.round(south * 1e7), 106);
  header.writeInt32LE(Math.round(east * 1e7), 110);
  header.writeInt32LE(Math.round(north * 1e7), 114);
  header.writeUInt8(Math.max(...zooms), 118);
  header.writeInt32LE(Math.round(((west + east) / 2) * 1e7), 119);
  header.writeInt32LE(Math.round(((south + north) / 2) * 1e7), 123);
  return Buffer.concat([header, rootBytes, metadata, tile]);
}

/** Tile (x, y) of (lat, lon) at zoom z (Web Mercator). */
export function tileOf(lat: number, lon: number, z: number): [number, number] {
  const n = 2 ** z;
  const phi = (lat * Math.PI) / 180;
  const x = ((lon + 180) / 360) * n;
  const y = ((1 - Math.log(Math.tan(phi) + 1 / Math.cos(phi)) / Math.PI) / 2) * n;
  return [Math.floor(x), Math.floor(y)];
}


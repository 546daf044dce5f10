// What the PNG data-size check (workers/image/codec.ts, checkPngDataSize) costs: decode() of the 12 photos of
// mate-backgrounds nature re-encoded as PNG, against the one extra inflateSync of their IDAT the check adds.
//   node --import tsx bench/png-check-cost.ts
import { readdirSync, readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { decode } from '../workers/image/codec.ts';
const dir = '/usr/share/backgrounds/mate/nature/';
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const decodeMs: number[] = [], inflateMs: number[] = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith('.jpg'))) {
  const raw = decode(readFileSync(dir + file));
  const png = new PNG({ width: raw.width, height: raw.height });
  png.data = Buffer.from(raw.data);
  const bytes = PNG.sync.write(png);
  const idat: Buffer[] = [];
  for (let i = 8; i < bytes.length; ) { const len = bytes.readUInt32BE(i); const type = bytes.toString('latin1', i + 4, i + 8); if (type === 'IDAT') idat.push(bytes.subarray(i + 8, i + 8 + len)); i += 12 + len; }
  const d: number[] = [], f: number[] = [];
  for (let r = 0; r < 5; r++) {
    let t = performance.now(); decode(bytes); d.push(performance.now() - t);
    t = performance.now(); inflateSync(Buffer.concat(idat)); f.push(performance.now() - t);
  }
  decodeMs.push(med(d)); inflateMs.push(med(f));
}
console.log(`PNG decode (with the check) ${med(decodeMs).toFixed(0)} ms; the check's inflate ${med(inflateMs).toFixed(0)} ms (${(100 * med(inflateMs) / (med(decodeMs) - med(inflateMs))).toFixed(0)}% on top of the decode without it), median over ${decodeMs.length} photos`);

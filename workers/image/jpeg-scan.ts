/**
 * Does a baseline JPEG's scan hold every block its frame header promises? Answered by walking the
 * Huffman-coded data (codes and extra bits only: no dequantising, no IDCT, no pixels), counting
 * blocks until the header's count is reached or the data runs out.
 *
 * Why we need it: libvips (vips.ts, shrink-on-load) does not reliably fail a JPEG whose scan ends
 * early when the missing rows are the last ones it reads: its check for libjpeg's warnings runs
 * after each tile but not after the last, so a header that promises more rows than the data holds
 * decodes to an image padded with the last colour. MozJPEG's full-size path refuses such files;
 * this walk lets the shrunk path refuse them too, before any decoding.
 *
 * Only single-scan Huffman JPEGs (SOF0/SOF1, 8-bit, 1 or 3 components, one scan with every
 * component) are walked. Progressive JPEGs are not: their refinement scans would need the
 * coefficient history. They need no walk either: libjpeg reads every scan of a multi-scan file
 * into its coefficient buffer before it outputs the first row, so a scan that ends early is
 * reported inside libvips's first tile, where its check works (1,275 forged and cut progressive
 * files, 0 accepted). Anything else answers 'unknown' and takes the full-size path.
 */

/**
 * 'complete', 'damaged' (data ends early, a bad code, stray bytes), 'progressive' (an 8-bit
 * progressive JPEG of 1 or 3 components: not walked, see below), or 'unknown' (not a layout we walk).
 */
export type ScanVerdict = 'complete' | 'damaged' | 'progressive' | 'unknown';

/** A Huffman table: a 9-bit lookahead for the short codes, canonical limits for the rest. */
interface Huffman {
  /** (length << 8) | symbol for every 9-bit prefix that starts with a code of <= 9 bits, else 0. */
  fast: Uint16Array;
  /** maxcode[l]: the largest code of length l, or -1. */
  maxcode: Int32Array;
  /** valptr[l]: index in `symbols` of the first code of length l, minus that code. */
  valptr: Int32Array;
  symbols: Uint8Array;
  /**
   * For every 9-bit prefix holding a whole code and its extra bits: bits consumed | (coefficients
   * advanced << 8), where an end-of-block advances 64; else 0. Most codes of a photo are found here.
   */
  whole: Uint16Array;
}

const FAST_BITS = 9;

function buildHuffman(counts: Uint8Array, symbols: Uint8Array): Huffman | null {
  const fast = new Uint16Array(1 << FAST_BITS);
  const maxcode = new Int32Array(18).fill(-1);
  const valptr = new Int32Array(18);
  let code = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    const n = counts[l - 1] as number;
    valptr[l] = k - code;
    for (let i = 0; i < n; i++, k++, code++) {
      if (l <= FAST_BITS) {
        const shift = FAST_BITS - l;
        for (let j = 0; j < 1 << shift; j++) fast[(code << shift) | j] = (l << 8) | (symbols[k] as number);
      }
    }
    if (n > 0) maxcode[l] = code - 1;
    // A code set that overflows its length is not a prefix code.
    if (code > 1 << l) return null;
    code <<= 1;
  }
  const whole = new Uint16Array(1 << FAST_BITS);
  for (let p = 0; p < whole.length; p++) {
    const f = fast[p] as number;
    if (f === 0) continue;
    const used = f >> 8;
    const sym = f & 255;
    // As an AC symbol: run/size, 0x00 end of block, 0xF0 sixteen zeros. (DC tables use `fast`.)
    const size = sym & 15;
    if (size === 0) whole[p] = used | ((sym === 0xf0 ? 16 : sym === 0 ? 64 : 0) << 8);
    else if (used + size <= FAST_BITS) whole[p] = (used + size) | (((sym >> 4) + 1) << 8);
    if (size === 0 && sym !== 0xf0 && sym !== 0) whole[p] = 0;
  }
  return { fast, maxcode, valptr, symbols, whole };
}

const u16 = (b: Uint8Array, i: number): number => (((b[i] as number) << 8) | (b[i + 1] as number)) >>> 0;

/** The scan verdict for `b`, a JPEG whose header probe.ts has already accepted. */
export function scanVerdict(b: Uint8Array): ScanVerdict {
  const dc: Array<Huffman | null | undefined> = [];
  const ac: Array<Huffman | null | undefined> = [];
  let restart = 0;
  let frame: { width: number; height: number; comps: Array<{ id: number; h: number; v: number }> } | undefined;
  let progressive = false;
  let i = 2;
  for (;;) {
    if (i + 4 > b.length || b[i] !== 0xff) return 'damaged';
    while (i < b.length && b[i] === 0xff) i++;
    const marker = b[i] as number;
    i++;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xd9) return 'damaged';
    const len = u16(b, i);
    const end = i + len;
    if (len < 2 || end > b.length) return 'damaged';
    if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) {
      if (frame !== undefined || b[i + 2] !== 8) return 'unknown';
      progressive = marker === 0xc2;
      const n = b[i + 7] as number;
      if (n !== 1 && n !== 3) return 'unknown';
      if (len < 8 + 3 * n) return 'damaged';
      const comps = [];
      for (let c = 0; c < n; c++) {
        const hv = b[i + 9 + 3 * c] as number;
        const h = hv >> 4;
        const v = hv & 15;
        if (h < 1 || h > 4 || v < 1 || v > 4) return 'unknown';
        comps.push({ id: b[i + 8 + 3 * c] as number, h, v });
      }
      frame = { height: u16(b, i + 3), width: u16(b, i + 5), comps };
    } else if (marker >= 0xc3 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xcc) {
      return 'unknown';
    } else if (marker === 0xc4) {
      let p = i + 2;
      while (p < end) {
        const tc = (b[p] as number) >> 4;
        const th = (b[p] as number) & 15;
        if (p + 17 > end || tc > 1 || th > 3) return 'damaged';
        const counts = b.subarray(p + 1, p + 17);
        let total = 0;
        for (const c of counts) total += c;
        if (p + 17 + total > end) return 'damaged';
        const table = buildHuffman(counts, b.subarray(p + 17, p + 17 + total));
        (tc === 0 ? dc : ac)[th] = table;
        p += 17 + total;
      }
    } else if (marker === 0xdd) {
      if (len < 4) return 'damaged';
      restart = u16(b, i + 2);
    } else if (marker === 0xda) {
      if (frame === undefined) return 'damaged';
      if (progressive) return 'progressive';
      const ns = b[i + 2] as number;
      if (ns !== frame.comps.length || len < 6 + 2 * ns) return 'unknown';
      const blocks: Array<{ dc: Huffman; ac: Huffman; count: number }> = [];
      for (let c = 0; c < ns; c++) {
        const comp = frame.comps.find((x) => x.id === b[i + 3 + 2 * c]);
        const t = b[i + 4 + 2 * c] as number;
        const d = dc[t >> 4];
        const a = ac[t & 15];
        if (comp === undefined || d === undefined || a === undefined) return 'unknown';
        if (d === null || a === null) return 'damaged';
        blocks.push({ dc: d, ac: a, count: ns === 1 ? 1 : comp.h * comp.v });
      }
      const hmax = Math.max(...frame.comps.map((x) => x.h));
      const vmax = Math.max(...frame.comps.map((x) => x.v));
      const mcus =
        ns === 1
          ? Math.ceil(Math.ceil((frame.width * (frame.comps[0] as { h: number }).h) / hmax) / 8) * Math.ceil(Math.ceil((frame.height * (frame.comps[0] as { v: number }).v) / vmax) / 8)
          : Math.ceil(frame.width / (8 * hmax)) * Math.ceil(frame.height / (8 * vmax));
      return walk(b, end, blocks, mcus, restart) ? 'complete' : 'damaged';
    }
    i = end;
  }
}

/**
 * Decodes the codes of `mcus` MCUs from `start`, with restart markers every `restart` MCUs, then
 * expects the end-of-image marker. False as soon as a code is invalid, the data runs into a marker
 * early, or bytes are left over before a marker (what libjpeg reports as corrupt data and pads or
 * resyncs over). One function with the bit reader inlined: it runs over every code of the image.
 */
function walk(b: Uint8Array, start: number, comps: ReadonlyArray<{ dc: Huffman; ac: Huffman; count: number }>, mcus: number, restart: number): boolean {
  const length = b.length;
  let pos = start;
  // Bits are consumed from the top of the low `n` bits of `acc`.
  let acc = 0;
  let n = 0;
  // Zero bits appended after the data ran into a marker; consuming one of them means the data ended early.
  let pad = 0;
  let atMarker = false;
  const units: Array<{ dc: Huffman; ac: Huffman }> = [];
  for (const comp of comps) for (let k = 0; k < comp.count; k++) units.push(comp);

  for (let m = 0; m < mcus; m++) {
    if (restart > 0 && m > 0 && m % restart === 0) {
      // The restart marker due here, after nothing but the last byte's padding bits.
      if (n - pad >= 8 || (!atMarker && b[pos] !== 0xff)) return false;
      while (pos < length && b[pos] === 0xff) pos++;
      const marker = b[pos];
      if (marker === undefined || marker < 0xd0 || marker > 0xd7) return false;
      pos++;
      acc = 0;
      n = 0;
      pad = 0;
      atMarker = false;
    }
    for (let u = 0; u < units.length; u++) {
      const unit = units[u] as { dc: Huffman; ac: Huffman };
      let h = unit.dc;
      // Extra bits of the last code, skipped at the top of the next step: one refill serves both.
      let extra = 0;
      for (let c = 0; c < 64 || extra > 0; ) {
        // Refill to at least 25 bits: one code (<= 16) or one code's extra bits (<= 16) at a time.
        if (n < 16) {
          while (n <= 24) {
            let byte = 0;
            if (!atMarker && pos < length) {
              byte = b[pos] as number;
              if (byte === 0xff) {
                if (b[pos + 1] === 0) pos += 2;
                else {
                  atMarker = true;
                  byte = 0;
                  pad += 8;
                }
              } else pos++;
            } else pad += 8;
            acc = (acc << 8) | byte;
            n += 8;
          }
        }
        if (extra > 0) {
          n -= extra;
          extra = 0;
          if (n < pad) return false;
          continue;
        }
        const peek = (acc >>> (n - FAST_BITS)) & ((1 << FAST_BITS) - 1);
        if (c > 0) {
          const w = h.whole[peek] as number;
          if (w !== 0) {
            n -= w & 255;
            if (n < pad) return false;
            c += w >> 8;
            continue;
          }
        }
        const f = h.fast[peek] as number;
        let sym: number;
        if (f !== 0) {
          n -= f >> 8;
          sym = f & 255;
        } else {
          let l = FAST_BITS;
          let code = peek;
          while (code > (h.maxcode[l] as number)) {
            l++;
            if (l > 16) return false;
            code = (acc >>> (n - l)) & ((1 << l) - 1);
          }
          n -= l;
          const v = h.symbols[(h.valptr[l] as number) + code];
          if (v === undefined) return false;
          sym = v;
        }
        if (n < pad) return false;
        if (c === 0) {
          if (sym > 16) return false;
          extra = sym;
          h = unit.ac;
          c = 1;
        } else {
          const size = sym & 15;
          if (size === 0) {
            if (sym !== 0xf0) break;
            c += 16;
            continue;
          }
          c += (sym >> 4) + 1;
          extra = size;
        }
      }
    }
  }
  // Then the end-of-image marker, again after nothing but padding bits.
  if (n - pad >= 8 || (!atMarker && b[pos] !== 0xff)) return false;
  while (pos < length && b[pos] === 0xff) pos++;
  return b[pos] === 0xd9;
}

/* eslint-disable -- AssemblyScript source, not TypeScript: tsc and ESLint cannot check it; asc does. */
// @ts-nocheck -- i32, v128, load<T> etc. are AssemblyScript compiler builtins.
/**
 * WASM SIMD row kernel, compiled by workers/image/build-wasm.mjs to kernel.wasm.
 * It must stay bit-identical to createTsKernel() in ../resample.ts: same
 * premultiply, same 14-bit weights, same shifts and rounding biases. One pixel
 * (RGBA) is one i32x4; the vertical pass handles two pixels per step as i16x8.
 * The JS side (../wasm.ts) owns the memory layout and passes raw pointers.
 */

/** Premultiplies `cols` RGBA8 pixels at `src` into i32x4s at `pre`, then filters them
 *  horizontally: output pixel x reads taps pixels from pre + starts[x] (a byte offset)
 *  with i32 weights at weights + x*taps*4, and is stored as 4 x i16 at out + x*8. */
export function hrow(src: usize, cols: i32, pre: usize, starts: usize, weights: usize, taps: i32, cw: i32, out: usize): void {
  const k255 = i32x4.splat(255);
  for (let i = 0; i < cols; i++) {
    const v = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(src + (<usize>i << 2))));
    // [a, a, a, 255]: colours times alpha, alpha times 255, all on the same 0..65025 scale.
    const m = i32x4.shuffle(v, k255, 3, 3, 3, 4);
    v128.store(pre + (<usize>i << 4), i32x4.mul(v, m));
  }
  const bias = i32x4.splat(32768);
  let w = weights;
  for (let x = 0; x < cw; x++) {
    let s = pre + <usize>load<i32>(starts + (<usize>x << 2));
    let acc = bias;
    let k = 0;
    // Unrolled by 4: the JIT does not unroll, and the adds form one dependency chain otherwise.
    for (; k + 4 <= taps; k += 4) {
      const p0 = i32x4.mul(v128.load(s), v128.load32_splat(w));
      const p1 = i32x4.mul(v128.load(s, 16), v128.load32_splat(w, 4));
      const p2 = i32x4.mul(v128.load(s, 32), v128.load32_splat(w, 8));
      const p3 = i32x4.mul(v128.load(s, 48), v128.load32_splat(w, 12));
      acc = i32x4.add(acc, i32x4.add(i32x4.add(p0, p1), i32x4.add(p2, p3)));
      s += 64;
      w += 16;
    }
    for (; k < taps; k++) {
      acc = i32x4.add(acc, i32x4.mul(v128.load(s), v128.load32_splat(w)));
      s += 16;
      w += 4;
    }
    const t = i32x4.shr_s(acc, 16);
    v128.store64_lane(out + (<usize>x << 3), i16x8.narrow_i32x4_s(t, t), 0);
  }
}

// Unpremultiplies one accumulated pixel and stores it as RGBA8. The f32 division is
// exact here: numerators stay below 2^24 and a non-integer quotient is at least
// 1/(2*qa) > half an ulp away from the next integer, so truncation matches i32 division.
// Binaryen inlines this at -O3; no @inline decorator so ESLint can parse the file.
function storePixel(ptr: usize, acc: v128): void {
  const q = i32x4.shr_s(acc, 14);
  const qa = i32x4.extract_lane(q, 3);
  if (qa <= 0) {
    store<u32>(ptr, 0);
    return;
  }
  const qas = i32x4.splat(qa);
  const qc = i32x4.min_s(i32x4.max_s(q, i32x4.splat(0)), qas);
  const num = f32x4.convert_i32x4_s(i32x4.add(i32x4.mul(qc, i32x4.splat(510)), qas));
  const c = i32x4.trunc_sat_f32x4_s(f32x4.div(num, f32x4.splat(<f32>(qa * 2))));
  let alpha = (qa * 8 + 255) / 510;
  if (alpha > 255) alpha = 255;
  const px = i32x4.replace_lane(c, 3, alpha);
  const h = i16x8.narrow_i32x4_s(px, px);
  v128.store32_lane(ptr, i8x16.narrow_i16x8_u(h, h), 0);
}

/** Vertical pass for one output row: `n` pixels (rounded up to even by the caller's buffers).
 *  slots[k] is the absolute byte address of the k-th ring row, wv + k*16 holds weight k
 *  splatted to i16x8. Writes RGBA8 at out. */
export function vrow(slots: usize, wv: usize, taps: i32, n: i32, out: usize): void {
  const bias = i32x4.splat(8192);
  for (let i = 0; i < n; i += 2) {
    const off = <usize>i << 3;
    let a0 = bias;
    let a1 = bias;
    for (let k = 0; k < taps; k++) {
      const v = v128.load(<usize>load<i32>(slots + (<usize>k << 2)) + off);
      const w = v128.load(wv + (<usize>k << 4));
      a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(v, w));
      a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(v, w));
    }
    storePixel(out + (<usize>i << 2), a0);
    storePixel(out + (<usize>i << 2) + 4, a1);
  }
}

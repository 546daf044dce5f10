import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { createResizePlan, sourceRowsFor, splitRows, type ResizePlan } from '../workers/image/plan.ts';
import { buildFilterTable } from '../workers/image/filters.ts';
import { resizeBand, resizeImage } from '../workers/image/resample.ts';
import type { RawImage } from '../workers/image/types.ts';
import { alphaBlob, checkerboard, gradient, noise, psnrRgb, smooth, transparentEdge } from './fixtures/images/generate.ts';

async function sharpFill(img: RawImage, width: number, height: number): Promise<Uint8Array> {
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 4 } })
    .resize(width, height, { kernel: 'lanczos3', fit: 'fill' })
    .raw()
    .toBuffer();
  return new Uint8Array(buf);
}

function ours(img: RawImage, width: number, height: number, extra: Partial<Parameters<typeof createResizePlan>[0]> = {}) {
  const plan = createResizePlan({ srcWidth: img.width, srcHeight: img.height, width, height, fit: 'fill', ...extra });
  return { plan, data: resizeImage(plan, img.data) };
}

function px(data: Uint8Array, width: number, x: number, y: number): number[] {
  const i = (y * width + x) * 4;
  return Array.from(data.subarray(i, i + 4));
}

describe('filter tables', () => {
  it('every window sums to exactly 1 << 14 and stays inside the source', () => {
    for (const [src, out] of [[400, 100], [400, 133], [10, 37], [3, 50], [1, 9], [9, 1], [1000, 999]] as const) {
      for (const f of ['lanczos3', 'bilinear'] as const) {
        const t = buildFilterTable(f, src, 0, src, out);
        for (let i = 0; i < out; i++) {
          let sum = 0;
          for (let k = 0; k < t.taps; k++) sum += t.weights[i * t.taps + k] ?? NaN;
          expect(sum).toBe(16384);
          expect(t.starts[i]).toBeGreaterThanOrEqual(0);
          expect((t.starts[i] ?? 0) + t.taps).toBeLessThanOrEqual(src);
        }
      }
    }
  });

  it('scales the filter support with the downscale ratio', () => {
    expect(buildFilterTable('lanczos3', 400, 0, 400, 800).taps).toBe(6);
    expect(buildFilterTable('lanczos3', 400, 0, 400, 200).taps).toBe(12);
    expect(buildFilterTable('lanczos3', 400, 0, 400, 100).taps).toBe(24);
    expect(buildFilterTable('bilinear', 400, 0, 400, 100).taps).toBe(8);
  });

  it('identity resize is exact for opaque pixels and alpha; colour of translucent pixels within 1', () => {
    const opaque = noise(37, 23);
    const same = ours(opaque, opaque.width, opaque.height).data;
    expect(Buffer.compare(Buffer.from(same), Buffer.from(opaque.data))).toBe(0);
    // Premultiplied intermediates keep ~14 bits of c*a, so colour behind very low alpha is approximate.
    const img = alphaBlob(31, 17);
    const { data } = ours(img, img.width, img.height);
    for (let i = 0; i < data.length; i += 4) {
      const a = img.data[i + 3] ?? 0;
      expect(data[i + 3]).toBe(a);
      if (a === 0) expect(Array.from(data.subarray(i, i + 3))).toEqual([0, 0, 0]);
      else if (a >= 16) for (let c = 0; c < 3; c++) expect(Math.abs((data[i + c] ?? 0) - (img.data[i + c] ?? 0))).toBeLessThanOrEqual(1);
    }
  });
});

describe('quality against sharp lanczos3 (fit: fill), PSNR over RGB', () => {
  // Downscales: libvips reduce is the same centred Lanczos-3, so even noise agrees closely at 2x.
  // Beyond ~3x libvips box-shrinks first, so high-frequency content is compared only at 2x.
  const down: Array<[string, RawImage, number, number]> = [
    ['gradient', gradient(400, 300), 200, 150],
    ['gradient', gradient(400, 300), 100, 75],
    ['gradient', gradient(400, 300), 57, 43],
    ['smooth', smooth(400, 300), 200, 150],
    ['smooth', smooth(400, 300), 133, 97],
    ['smooth', smooth(400, 300), 100, 75],
    ['checkerboard', checkerboard(400, 300, 16), 200, 150],
    ['checkerboard', checkerboard(400, 300, 16), 133, 97],
    ['noise', noise(400, 300), 200, 150],
    ['noise', noise(400, 300), 133, 97],
  ];
  // Upscales: libvips enlarges with a bicubic affine whose sample grid sits a fraction of a pixel
  // off the centred grid we (and Pillow, pica, ImageMagick) use, so compare on smooth content.
  const up: Array<[string, RawImage, number, number]> = [
    ['gradient', gradient(400, 300), 800, 600],
    ['gradient', gradient(400, 300), 573, 411],
    ['gradient', gradient(160, 120), 600, 450],
    ['smooth', smooth(400, 300), 800, 600],
    ['smooth', smooth(400, 300), 1000, 750],
  ];
  for (const [name, img, w, h] of [...down, ...up]) {
    it(`${name} ${img.width}x${img.height} -> ${w}x${h} >= 40 dB`, async () => {
      const ref = await sharpFill(img, w, h);
      const { data } = ours(img, w, h);
      expect(psnrRgb(data, ref)).toBeGreaterThanOrEqual(40);
    });
  }
});

describe('bands', () => {
  const cases: Array<[string, RawImage, Parameters<typeof createResizePlan>[0]]> = [];
  const src = noise(211, 157, 3);
  const a = alphaBlob(120, 90);
  cases.push(['down lanczos3', src, { srcWidth: 211, srcHeight: 157, width: 64, height: 47, fit: 'fill' }]);
  cases.push(['up lanczos3', src, { srcWidth: 211, srcHeight: 157, width: 300, height: 260, fit: 'fill' }]);
  cases.push(['cover bilinear', src, { srcWidth: 211, srcHeight: 157, width: 80, height: 80, fit: 'cover', filter: 'bilinear' }]);
  cases.push(['contain letterbox', a, { srcWidth: 120, srcHeight: 90, width: 50, height: 70, fit: 'contain', background: [1, 2, 3, 4] }]);

  for (const [name, img, opts] of cases) {
    it(`${name}: 1, 2, 3, 7 and per-row bands are byte-identical`, () => {
      const plan = createResizePlan(opts);
      const whole = resizeImage(plan, img.data);
      const splits = [1, 2, 3, 7, plan.dstHeight];
      for (const n of splits) {
        const out = new Uint8Array(new SharedArrayBuffer(whole.length));
        // Run bands out of order to show they are independent.
        for (const band of splitRows(plan, n).reverse()) resizeBand(plan, img.data, out, band.start, band.end);
        expect(Buffer.compare(Buffer.from(out), Buffer.from(whole))).toBe(0);
      }
    });
  }

  it('a band reads only sourceRowsFor rows and can write a band-sized buffer', () => {
    const plan = createResizePlan({ srcWidth: 211, srcHeight: 157, width: 64, height: 47, fit: 'fill' });
    const whole = resizeImage(plan, src.data);
    const row = plan.srcWidth * 4;
    for (const band of splitRows(plan, 5)) {
      const rows = sourceRowsFor(plan, band.start, band.end);
      expect(rows.start).toBeGreaterThanOrEqual(0);
      expect(rows.end).toBeLessThanOrEqual(plan.srcHeight);
      // Only the needed rows, everything else absent: a wrong read would throw or change the bytes.
      const part = src.data.slice(rows.start * row, rows.end * row);
      const out = new Uint8Array((band.end - band.start) * plan.dstWidth * 4);
      resizeBand(plan, part, out, band.start, band.end, { srcFirstRow: rows.start });
      const expected = whole.subarray(band.start * plan.dstWidth * 4, band.end * plan.dstWidth * 4);
      expect(Buffer.compare(Buffer.from(out), Buffer.from(expected))).toBe(0);
    }
  });

  it('rejects a source that lacks the rows the band needs, and mis-sized destinations', () => {
    const plan = createResizePlan({ srcWidth: 211, srcHeight: 157, width: 64, height: 47, fit: 'fill' });
    const rows = sourceRowsFor(plan, 10, 20);
    const row = plan.srcWidth * 4;
    const short = src.data.slice((rows.start + 1) * row, rows.end * row);
    const out = new Uint8Array(plan.dstWidth * plan.dstHeight * 4);
    expect(() => resizeBand(plan, short, out, 10, 20, { srcFirstRow: rows.start + 1 })).toThrow(expect.objectContaining({ code: 'TESSERA_IMAGE_SIZE' }));
    expect(() => resizeBand(plan, src.data, out.subarray(4), 10, 20)).toThrow(expect.objectContaining({ code: 'TESSERA_IMAGE_SIZE' }));
    expect(() => resizeBand(plan, src.data, out, 20, 10)).toThrow(expect.objectContaining({ code: 'TESSERA_IMAGE_SIZE' }));
  });

  it('the plan survives structured cloning', () => {
    const plan = createResizePlan({ srcWidth: 211, srcHeight: 157, width: 90, height: 60, fit: 'cover' });
    const cloned = structuredClone(plan) as ResizePlan;
    expect(Buffer.compare(Buffer.from(resizeImage(cloned, src.data)), Buffer.from(resizeImage(plan, src.data)))).toBe(0);
  });
});

describe('fit modes', () => {
  const img = gradient(300, 100); // 3:1

  it('fill stretches to the exact size', () => {
    const { plan, data } = ours(img, 60, 60, { fit: 'fill' });
    expect([plan.dstWidth, plan.dstHeight, data.length]).toEqual([60, 60, 60 * 60 * 4]);
    // Red follows x over the whole source width, so the right column is near 255.
    expect(px(data, 60, 59, 30)[0]).toBeGreaterThan(245);
  });

  it('cover crops the centre', () => {
    const { plan, data } = ours(img, 60, 60, { fit: 'cover' });
    expect([plan.dstWidth, plan.dstHeight]).toEqual([60, 60]);
    expect(plan.crop.width).toBeCloseTo(100);
    expect(plan.crop.x).toBeCloseTo(100);
    // Only source columns 100..200 survive: red spans ~85..170 instead of 0..255.
    expect(px(data, 60, 0, 30)[0]).toBeGreaterThan(75);
    expect(px(data, 60, 0, 30)[0]).toBeLessThan(95);
    expect(px(data, 60, 59, 30)[0]).toBeGreaterThan(160);
    expect(px(data, 60, 59, 30)[0]).toBeLessThan(180);
    // Vertically nothing is cropped.
    expect(px(data, 60, 30, 0)[1]).toBeLessThan(10);
    expect(px(data, 60, 30, 59)[1]).toBeGreaterThan(245);
  });

  it('contain letterboxes with a transparent background by default', () => {
    const { plan, data } = ours(img, 60, 60, { fit: 'contain' });
    expect([plan.dstWidth, plan.dstHeight, plan.contentWidth, plan.contentHeight, plan.contentY]).toEqual([60, 60, 60, 20, 20]);
    expect(px(data, 60, 30, 5)).toEqual([0, 0, 0, 0]);
    expect(px(data, 60, 30, 55)).toEqual([0, 0, 0, 0]);
    expect(px(data, 60, 30, 30)[3]).toBe(255);
    expect(px(data, 60, 59, 30)[0]).toBeGreaterThan(245);
  });

  it('contain uses the background option, also on the sides', () => {
    const tall = gradient(50, 200);
    const { plan, data } = ours(tall, 100, 100, { fit: 'contain', background: [255, 255, 255, 255] });
    expect([plan.contentWidth, plan.contentHeight, plan.contentX]).toEqual([25, 100, 37]);
    expect(px(data, 100, 5, 50)).toEqual([255, 255, 255, 255]);
    expect(px(data, 100, 95, 50)).toEqual([255, 255, 255, 255]);
    expect(px(data, 100, 50, 50)[3]).toBe(255);
  });

  it('keeps the aspect ratio when only one side is given', () => {
    expect(createResizePlan({ srcWidth: 300, srcHeight: 100, width: 90 })).toMatchObject({ dstWidth: 90, dstHeight: 30 });
    expect(createResizePlan({ srcWidth: 300, srcHeight: 100, height: 10 })).toMatchObject({ dstWidth: 30, dstHeight: 10 });
  });

  it('handles tiny and extreme shapes', () => {
    for (const [sw, sh, w, h] of [[1, 1, 7, 5], [7, 5, 1, 1], [1, 40, 3, 3], [500, 2, 5, 9]] as const) {
      const src = noise(sw, sh, 9);
      for (const fit of ['cover', 'contain', 'fill'] as const) {
        const plan = createResizePlan({ srcWidth: sw, srcHeight: sh, width: w, height: h, fit });
        expect(resizeImage(plan, src.data).length).toBe(w * h * 4);
      }
    }
  });
});

describe('premultiplied alpha', () => {
  it('a transparent-red / opaque-green edge gets no red or dark fringe', () => {
    const img = transparentEdge(64, 8);
    for (const [w, h, filter] of [[16, 8, 'lanczos3'], [37, 8, 'lanczos3'], [200, 8, 'lanczos3'], [16, 8, 'bilinear'], [150, 8, 'bilinear']] as const) {
      const { data } = ours(img, w, h, { filter });
      for (let x = 0; x < w; x++) {
        const [r, g, b, a] = px(data, w, x, 4);
        if ((a ?? 0) === 0) continue;
        // Any visible pixel must be pure green at full brightness: the red of transparent pixels must not leak,
        // and colour must not be darkened towards black where alpha falls.
        expect(r).toBe(0);
        expect(b).toBe(0);
        expect(g).toBe(255);
      }
      // The edge is still soft in alpha, and far sides keep their alpha.
      expect(px(data, w, 0, 4)[3]).toBe(0);
      expect(px(data, w, w - 1, 4)[3]).toBe(255);
    }
  });

  it('straight resampling would have bled red; sharp agrees with our unpremultiplied colours', async () => {
    const img = alphaBlob(120, 90);
    const { data } = ours(img, 60, 45);
    const ref = await sharpFill(img, 60, 45);
    // Compare only where both are clearly visible: colour of near-transparent pixels is ill-defined.
    let se = 0;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if ((data[i + 3] ?? 0) < 64) continue;
      for (let c = 0; c < 4; c++) {
        const d = (data[i + c] ?? 0) - (ref[i + c] ?? 0);
        se += d * d;
        n++;
      }
    }
    expect(n).toBeGreaterThan(1000);
    expect(10 * Math.log10((255 * 255 * n) / Math.max(se, 1e-9))).toBeGreaterThan(40);
  });
});

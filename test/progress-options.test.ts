import { expect, test } from 'vitest';
import { InvalidOptionTypeError } from '../src/index.ts';
import type * as tasks from './fixtures/progress.ts';
import { makePool } from './helpers.ts';

test('onProgress must be a function', async () => {
  const pool = makePool<typeof tasks>('progress.ts');
  for (const bad of [1, 'x', {}, null, [], Symbol('s')]) {
    const error = await pool.run('steps', { n: 1 }, { onProgress: bad as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionTypeError);
    expect(error).toMatchObject({ code: 'TESSERA_INVALID_OPTION' });
  }
});

test('hostile options objects reject with InvalidOptionTypeError', async () => {
  const pool = makePool<typeof tasks>('progress.ts');
  const getter = Object.defineProperty({}, 'onProgress', {
    get() {
      throw new Error('getter');
    },
  });
  const trap = new Proxy(
    {},
    {
      get(_target, key) {
        if (key === 'onProgress') throw new Error('trap');
        return undefined;
      },
    },
  );
  const noProto = Object.assign(Object.create(null) as object, { onProgress: 42 });
  for (const options of [getter, trap, noProto]) {
    const error = await pool.run('steps', { n: 1 }, options as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionTypeError);
    expect(error).toMatchObject({ code: 'TESSERA_INVALID_OPTION' });
  }
});

test('pool.map takes no onProgress', async () => {
  const pool = makePool<typeof tasks>('progress.ts');
  const error = await pool.map('tight', [{ n: 1 }], { onProgress: () => {} } as never).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InvalidOptionTypeError);
  expect(error).toMatchObject({ code: 'TESSERA_INVALID_OPTION' });
});

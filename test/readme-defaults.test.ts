import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { poolDefaults } from '../src/index.ts';

// Defaults are documented from the source: the README's option table must match `poolDefaults`.
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

function documentedDefault(option: string): string | undefined {
  const row = readme.split('\n').find((line) => line.startsWith(`| \`${option}\` |`));
  return row?.split('|')[2]?.trim().replace(/`/g, '');
}

describe('README option defaults', () => {
  for (const [option, value] of Object.entries(poolDefaults)) {
    it(`documents ${option} = ${value}`, () => {
      const documented = documentedDefault(option);
      expect(documented, `README has no row for \`${option}\``).toBeDefined();
      expect(Number(documented!.replace(/_/g, ''))).toBe(value);
    });
  }
});

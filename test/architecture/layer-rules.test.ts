/**
 * The layer rules of src/ (.dependency-cruiser.cjs, described in docs/architecture.md) hold on
 * the real tree, and they do reject what they are meant to reject: an upward import, an import
 * cycle, and a file outside every layer, in a small tree written for the test.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';
import type { ICruiseOptions, IForbiddenRuleType } from 'dependency-cruiser';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const config = createRequire(import.meta.url)(join(root, '.dependency-cruiser.cjs')) as { forbidden: IForbiddenRuleType[]; options: ICruiseOptions };

/** The rule names broken in the tree at `baseDir`, each with the import that breaks it. */
async function violations(baseDir: string): Promise<string[]> {
  const options: ICruiseOptions = {
    ...config.options,
    baseDir,
    tsConfig: { fileName: join(baseDir, 'tsconfig.json') },
    validate: true,
    ruleSet: { forbidden: config.forbidden },
  };
  const result = await cruise(['src'], options);
  if (typeof result.output === 'string') throw new Error('expected a structured result');
  return result.output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
}

describe('layer rules', () => {
  it('hold on src/: no forbidden import, no cycle', async () => {
    assert.deepEqual(await violations(root), []);
  });

  it('reject an upward import, a cycle and a file outside the layers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-layers-'));
    try {
      const write = (path: string, text: string): void => {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      };
      write('tsconfig.json', JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }));
      // The pure domain reaching up into the HTTP layer.
      write('src/domain/pricing.ts', "import { route } from '../http/route.js';\nexport const price = route;\n");
      write('src/http/route.ts', 'export const route = 1;\n');
      // Two engine modules importing each other.
      write('src/engine/a.ts', "import { b } from './b.js';\nexport const a = (): number => b();\n");
      write('src/engine/b.ts', "import { a } from './a.js';\nexport const b = (): number => a();\n");
      // A folder no rule names.
      write('src/helpers/misc.ts', "import { route } from '../http/route.js';\nexport const misc = route;\n");
      // A cycle is reported once, from whichever of its files is met first.
      const found = (await violations(dir)).map((v) => v.replace('src/engine/b.ts -> src/engine/a.ts', 'src/engine/a.ts -> src/engine/b.ts'));
      assert.deepEqual(found, [
        'in-a-layer: src/helpers/misc.ts -> src/http/route.ts',
        'layer-domain: src/domain/pricing.ts -> src/http/route.ts',
        'no-cycles: src/engine/a.ts -> src/engine/b.ts',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The served rtcroom.js (the bundle of js/client/src) exports exactly the values rtcroom.d.ts
// declares: the bundle imported as a browser would (it touches no browser API at import time),
// against the declarations as the TypeScript compiler reads them.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/rtcroom/web');
const declarations = path.join(web, 'rtcroom.d.ts');

const program = ts.createProgram([declarations], { noEmit: true, types: [] });
const checker = program.getTypeChecker();
const source = program.getSourceFile(declarations);
const moduleSymbol = source && checker.getSymbolAtLocation(source);
if (!moduleSymbol) throw new Error(`cannot read ${declarations}`);
const declared = checker
  .getExportsOfModule(moduleSymbol)
  .filter((symbol) => symbol.flags & ts.SymbolFlags.Value)
  .map((symbol) => symbol.name)
  .sort();

const exported = Object.keys(await import(path.join(web, 'rtcroom.js'))).sort();

const missing = declared.filter((name) => !exported.includes(name));
const undeclared = exported.filter((name) => !declared.includes(name));
if (missing.length || undeclared.length) {
  if (missing.length) console.error(`rtcroom.d.ts declares, rtcroom.js does not export: ${missing}`);
  if (undeclared.length) console.error(`rtcroom.js exports, rtcroom.d.ts does not declare: ${undeclared}`);
  process.exit(1);
}

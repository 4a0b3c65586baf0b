// The resolve hook of record-packages.mjs (module customization hooks run on a thread of their own).
import { appendFileSync } from 'node:fs';

let file;

export function initialize(data) {
  file = data.file;
}

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(result.url)?.[1];
  if (pkg && file) appendFileSync(file, `${pkg}\n`);
  return result;
}

// Which npm packages `npm install --omit=dev` puts into the image, worked out offline from
// package-lock.json and the build's own workspace manifests: the build refuses to write a
// production tree whose closure holds a package that must never ship (embedded Postgres).

/**
 * @param lock parsed package-lock.json (lockfileVersion 3: the "packages" map)
 * @param workspaces Map dir → manifest: the workspaces of the production tree (their
 *   dependencies are these manifests', not the lockfile's records of the source tree)
 * @returns Map lockfile path ("node_modules/x") → package name, every package installed
 */
export function productionClosure(lock, workspaces) {
  const packages = lock.packages ?? {};
  const installed = new Map();
  const queue = [];
  const visit = (fromPath, dependencies) => {
    for (const [name, optional] of dependencies) {
      const found = locate(packages, fromPath, name);
      if (found === undefined) {
        if (optional) continue; // another platform's optional binary: npm skips it too
        throw new Error(`${fromPath || 'the root'} needs ${name}, which package-lock.json does not have: run npm install`);
      }
      const entry = packages[found];
      if (entry.link) {
        const target = entry.resolved;
        if (!workspaces.has(target)) throw new Error(`${fromPath || 'the root'} needs the workspace ${name} (${target}), which the production build does not include`);
        if (!installed.has(found)) {
          installed.set(found, name);
          queue.push([target, dependenciesOf(workspaces.get(target))]);
        }
        continue;
      }
      if (installed.has(found)) continue;
      installed.set(found, name);
      queue.push([found, dependenciesOf(entry)]);
    }
  };
  for (const [dir, manifest] of workspaces) queue.push([dir, dependenciesOf(manifest)]);
  while (queue.length > 0) visit(...queue.shift());
  return installed;
}

/** [name, optional] for what npm installs for a package: dependencies, optional ones, required peers. */
function dependenciesOf(pkg) {
  const out = [];
  for (const name of Object.keys(pkg.dependencies ?? {})) out.push([name, false]);
  for (const name of Object.keys(pkg.optionalDependencies ?? {})) out.push([name, true]);
  // Optional peers are used when something else installs them; npm does not add them.
  for (const name of Object.keys(pkg.peerDependencies ?? {})) {
    if (pkg.peerDependenciesMeta?.[name]?.optional !== true) out.push([name, false]);
  }
  return out;
}

/** Node's lookup, on lockfile paths: fromPath/node_modules/name, then each folder above. */
function locate(packages, fromPath, name) {
  let base = fromPath;
  for (;;) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (base === '') return undefined;
    const up = base.lastIndexOf('/node_modules/');
    base = up >= 0 ? base.slice(0, up) : '';
  }
}

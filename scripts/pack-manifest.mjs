// The published package.json (docs/troubleshooting.md#what-the-package-holds):
// `npm pack` / `npm publish` run `strip` in prepack and `restore` in postpack.
// The repository's package.json builds the addon and dist/ on `npm install`
// (install, prepare) and carries the dev scripts; the published one has no
// scripts at all, so npm never asks a user to approve an install script
// (the prebuilt binary needs none), and gypfile: false keeps npm from
// turning the shipped binding.gyp into an implicit `node-gyp rebuild`.
//
// Publish the packed tarball (npm pack, then npm publish ./esem-bridge-X.tgz):
// a directory publish sends the registry the package.json it reads after
// postpack, the repository's, with its install script, so prepublishOnly
// (run by directory publishes only) refuses one.
// Usage: node scripts/pack-manifest.mjs strip|restore|refuse-directory-publish [folder]
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

const [action, folder = process.cwd()] = process.argv.slice(2);
const manifest = path.join(folder, "package.json");
const backup = path.join(folder, ".package.dev.json");

/** The published form of the repository's manifest. */
export function publishedManifest(dev) {
  const { scripts: _scripts, devDependencies: _dev, ...published } = dev;
  return { ...published, gypfile: false };
}

function restore() {
  if (!existsSync(backup)) return false;
  renameSync(backup, manifest);
  return true;
}

if (action === "strip") {
  // A pack that failed after its prepack left the published form in place: put the repository's back first.
  if (restore()) console.error("pack-manifest: restored package.json from .package.dev.json left by an earlier pack");
  const text = readFileSync(manifest, "utf8");
  const dev = JSON.parse(text);
  if (!dev.scripts) throw new Error("pack-manifest: package.json has no scripts: it looks published already; restore the repository's package.json (git checkout package.json)");
  writeFileSync(backup, text);
  writeFileSync(manifest, JSON.stringify(publishedManifest(dev), null, 2) + "\n");
} else if (action === "restore") {
  restore();
} else if (action === "refuse-directory-publish") {
  const { name, version } = JSON.parse(readFileSync(manifest, "utf8"));
  console.error(
    `pack-manifest: publish the packed tarball, not the folder: npm pack, then npm publish ./${name}-${version}.tgz ` +
      "(a folder publish would send the registry the repository's package.json, install script included).",
  );
  process.exitCode = 1;
} else {
  console.error("usage: node scripts/pack-manifest.mjs strip|restore|refuse-directory-publish [folder]");
  process.exitCode = 2;
}

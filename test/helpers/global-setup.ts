import { execFileSync } from 'node:child_process';

/** Fail early and clearly when a real part the integration tests need is missing from the machine. */
export default function setup(): void {
  const missing = ['mosquitto', 'socat'].filter((bin) => {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length) {
    throw new Error(`missing ${missing.join(', ')}: apt-get install -y mosquitto mosquitto-clients socat`);
  }
}

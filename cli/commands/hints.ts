import type { DeskportError } from '../../core/errors.ts';

/**
 * A hint for errors raised deep inside a stage without one, so every operator mistake ends with
 * what to do next — whichever command met it (the probes give their own before a command starts).
 */
export function defaultHint(err: DeskportError): string | undefined {
  const status = (err as { status?: unknown }).status;
  switch (err.code) {
    case 'DESKPORT_CONFIG':
      return 'Fix the settings listed: `deskport --help` names every environment variable; a mapping file is YAML or JSON (see examples/mapping.yaml).';
    case 'DESKPORT_TARGET_HTTP':
      if (status === 401) return 'Check DESKPORT_TARGET_API_KEY or DESKPORT_TARGET_API_KEY_FILE (the key from your Desk profile).';
      if (status === 404) return 'Check DESKPORT_TARGET_URL: the site\'s address, e.g. https://acme.teamwork.com (no path).';
      return undefined;
    case 'DESKPORT_TARGET_UNREACHABLE':
      return 'Check DESKPORT_TARGET_URL and the network; `deskport check` tests the target in one call.';
    default:
      return undefined;
  }
}

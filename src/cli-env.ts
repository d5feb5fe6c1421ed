import { Option, type Command } from 'commander';

/** Every `serve` flag can also come from the environment: `--max-inflight` ↔ BOXOFFICE_MAX_INFLIGHT. */
export const ENV_PREFIX = 'BOXOFFICE_';

export function envName(option: Option): string {
  return ENV_PREFIX + (option.long ?? option.name()).replace(/^--/, '').replace(/-/g, '_').toUpperCase();
}

/**
 * A `serve` option (arguments as commander's `.option()`) with its BOXOFFICE_ variable. The variable
 * must be set before the option is added: commander listens for it in addOption.
 */
export function serveOption(flags: string, description: string, parseOrDefault?: ((raw: string) => unknown) | unknown, defaultValue?: unknown): Option {
  const option = new Option(flags, description);
  if (typeof parseOrDefault === 'function') {
    option.argParser(parseOrDefault as (raw: string) => unknown);
    if (defaultValue !== undefined) option.default(defaultValue);
  } else if (parseOrDefault !== undefined) {
    option.default(parseOrDefault);
  }
  return option.env(envName(option));
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off', '']);

/**
 * The on/off flags' variables (each option already has its variable from serveOption: the flag wins
 * over the variable, the variable over the default; a bad value fails with the flag's own message
 * and the variable's name). Commander sets an on/off flag whenever its variable exists, whatever the
 * value, so BOXOFFICE_HEADLESS=0 would mean on: here 0/false/no/off mean off, and anything else
 * besides 1/true/yes/on is refused naming the variable.
 */
export function optionsFromEnvironment(command: Command): Command {
  for (const option of command.options) {
    const variable = option.envVar;
    if (!variable || option.required || option.optional || option.negate) continue;
    const key = option.attributeName();
    command.on(`optionEnv:${option.name()}`, () => {
      const raw = (process.env[variable] ?? '').trim().toLowerCase();
      if (TRUE.has(raw)) return;
      if (FALSE.has(raw)) {
        command.setOptionValueWithSource(key, false, 'env');
        return;
      }
      command.error(`error: option '${option.flags}' value '${process.env[variable]}' from env '${variable}' is invalid. Use 1 (or true, yes, on) for on, 0 (or false, no, off) for off.`, {
        code: 'boxoffice.invalidEnv',
      });
    });
  }
  return command;
}

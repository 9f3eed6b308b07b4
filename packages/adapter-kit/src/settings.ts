import { InvalidArgumentError } from '@engram/core';

/** Environment variables, as `process.env` holds them. */
export type SettingsEnvironment = Record<string, string | undefined>;

/** Options of {@link loadSetting} and {@link loadOptionalSetting}. */
export interface LoadSettingOptions {
  /** The value passed in code; wins over the environment. An empty string counts as unset. */
  value: string | undefined;
  /** The environment variable read when no value was passed, e.g. `QDRANT_URL`. */
  environmentVariableName: string;
  /** The option's name in code, for the error message, e.g. `url`. */
  settingName: string;
  /** What the setting is, for the error message, e.g. `Qdrant URL`. */
  description: string;
  /** The adapter, for the error prefix. */
  source: string;
  /** Where to read the variable; default `process.env`. */
  environment?: SettingsEnvironment;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** The value passed in code, else the environment variable, else `undefined`. */
export function loadOptionalSetting(options: Omit<LoadSettingOptions, 'description'>) {
  const environment = options.environment ?? process.env;
  return nonEmpty(options.value) ?? nonEmpty(environment[options.environmentVariableName]);
}

/**
 * The value passed in code, else the environment variable; throws `InvalidArgumentError`
 * saying "pass X or set ENV_VAR" when neither is set.
 */
export function loadSetting(options: LoadSettingOptions): string {
  const value = loadOptionalSetting(options);
  if (value !== undefined) return value;
  throw new InvalidArgumentError({
    source: options.source,
    message: `${options.description} is missing. Pass it as the \`${options.settingName}\` option or set the ${options.environmentVariableName} environment variable.`,
  });
}

/** {@link loadOptionalSetting} for one adapter: `(value, settingName, environmentVariableName)`. */
export type OptionalSettingLoader = (
  value: string | undefined,
  settingName: string,
  environmentVariableName: string,
) => string | undefined;

/** Binds {@link loadOptionalSetting} to one adapter (and environment), for its several settings. */
export function optionalSettingLoader(
  source: string,
  environment?: SettingsEnvironment,
): OptionalSettingLoader {
  return (value, settingName, environmentVariableName) =>
    loadOptionalSetting({
      value,
      settingName,
      environmentVariableName,
      source,
      ...(environment ? { environment } : {}),
    });
}

/**
 * A setting that must be there: `value` when set, else `InvalidArgumentError` with `message`
 * (which says what to pass or which variable to set), for settings whose message
 * {@link loadSetting}'s wording does not fit.
 */
export function requiredSetting(
  value: string | undefined,
  source: string,
  message: string,
): string {
  if (value) return value;
  throw new InvalidArgumentError({ source, message });
}

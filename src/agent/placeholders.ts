// The placeholders a recipe command may use: {port}, {service}, {data}, {state}. Replaced inside
// argv items only (never spliced into a shell script: shell steps get them as environment variables).

/** The values of the placeholders for one agent run. */
export interface Placeholders {
  /** The loopback port the service must listen on (process and node start). */
  port: number;
  /** The service checkout being served. */
  service: string;
  /** The current data version (a stable path: <state>/data/current). */
  data: string;
  /** The agent's state root. */
  state: string;
}

const PATTERN = /\{(port|service|data|state)\}/g;

/** Replaces every placeholder in one string. */
export function fillPlaceholders(text: string, values: Placeholders): string {
  return text.replace(PATTERN, (_, name: keyof Placeholders) => String(values[name]));
}

/** Replaces placeholders in each argument; the vector keeps its shape (no word splitting). */
export function fillArgv(argv: readonly string[], values: Placeholders): string[] {
  return argv.map((arg) => fillPlaceholders(arg, values));
}

/** Replaces placeholders in each value of an environment map. */
export function fillEnv(
  env: Readonly<Record<string, string>> | undefined,
  values: Placeholders,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env ?? {}).map(([k, v]) => [k, fillPlaceholders(v, values)]),
  );
}

/** The placeholders as environment variables, for shell steps and started services. */
export function placeholderEnv(values: Placeholders): Record<string, string> {
  return {
    PORT: String(values.port),
    GITSTRAP_PORT: String(values.port),
    GITSTRAP_SERVICE: values.service,
    GITSTRAP_DATA: values.data,
    GITSTRAP_STATE: values.state,
  };
}

// The placeholders a recipe command may use: {port}, {service}, {data}, {state}. Replaced inside
// argv items only (never spliced into a shell script: shell steps get them as environment variables).

/** The values of the placeholders for one agent run. */
export interface Placeholders {
  /** The loopback port the service must listen on (process and node start). */
  port: number;
  /** The service checkout being served. */
  service: string;
  /** The data version a command works on (the agent: the stable path <state>/data/current). */
  data: string;
  /** The agent's state root. */
  state: string;
}

/** Some of the values (the port may be a string): a placeholder without one is left as written. */
export type PlaceholderValues = Readonly<Partial<Record<keyof Placeholders, string | number>>>;

const PATTERN = /\{(port|service|data|state)\}/g;

/** Replaces every placeholder that has a value in one string; others (and unknown names) stay. */
export function fillPlaceholders(text: string, values: PlaceholderValues): string {
  return text.replace(PATTERN, (whole, name: keyof Placeholders) => {
    const value = values[name];
    return value === undefined ? whole : String(value);
  });
}

/** Replaces placeholders in each argument; the vector keeps its shape (no word splitting). */
export function fillArgv(argv: readonly string[], values: PlaceholderValues): string[] {
  return argv.map((arg) => fillPlaceholders(arg, values));
}

/** Replaces placeholders in each value of an environment map. */
export function fillEnv(
  env: Readonly<Record<string, string>> | undefined,
  values: PlaceholderValues,
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

// {data}, {state}, {port}, {service} in recipe commands: replaced as whole values, never through a shell.

/** Replaces every {name} whose name is known; leaves unknown ones as written. */
export function fillPlaceholders(
  argv: readonly string[],
  values: Readonly<Record<string, string>>,
): string[] {
  return argv.map((arg) =>
    arg.replace(/\{([a-z]+)\}/g, (whole, name: string) =>
      Object.prototype.hasOwnProperty.call(values, name) ? (values[name] as string) : whole,
    ),
  );
}
